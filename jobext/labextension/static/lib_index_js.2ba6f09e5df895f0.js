"use strict";
(self["rspackChunkjobext"] = self["rspackChunkjobext"] || []).push([["lib_index_js"], {
"./lib/actions.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  FALLBACK_ACTIONS: () => (FALLBACK_ACTIONS),
  actionsFromOpenAPI: () => (actionsFromOpenAPI),
  allowed: () => (allowed),
  allowedActions: () => (allowedActions)
});
/**
 * Which controls are enabled: the server's actions table, `(action, from-status)`, read once
 * from the OpenAPI document's top-level `x-jobext-actions` extension:
 *
 *     {"run": {"stop": ["queued", "running", ...], ...}, "batch": {"start": [...], ...}}
 *
 * The panel enables exactly what that table allows and nothing else.
 */
/**
 * FALLBACK, for servers whose OpenAPI document has no `x-jobext-actions` yet. Written from
 * jobext/states.py (TRANSITIONS) and the run manager's checks as of November 2026; it is the
 * ONLY copy of those rules in the panel, and is used only when the server publishes none.
 * Remove it once every supported server publishes the table.
 */
const FALLBACK_ACTIONS = {
    run: {
        // queued -> stopped at once; running/pausing/paused -> stopping; stopping: only force.
        stop: ['queued', 'running', 'pausing', 'paused'],
        'force-stop': ['queued', 'running', 'pausing', 'paused', 'stopping'],
        pause: ['running'],
        resume: ['pausing', 'paused'],
        restart: ['failed', 'stopped'],
        remove: ['succeeded', 'failed', 'stopped']
    },
    batch: {
        // DESIGN.md "Batches": no server-side table existed when this was written.
        start: ['created', 'stopped', 'completed', 'failed', 'paused'],
        stop: ['starting', 're-starting', 'running', 'pausing', 'paused'],
        pause: ['starting', 'running'],
        unpause: ['pausing', 'paused']
    },
    source: 'fallback'
};
function isActionMap(value) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
        return false;
    }
    return Object.values(value).every(v => Array.isArray(v) && v.every(s => typeof s === 'string'));
}
/**
 * The actions table of an OpenAPI document. Each resource the server publishes replaces the
 * fallback's whole entry for it; what it does not publish keeps the fallback.
 */
function actionsFromOpenAPI(doc) {
    const raw = doc && typeof doc === 'object'
        ? doc['x-jobext-actions']
        : undefined;
    if (!raw || typeof raw !== 'object') {
        return FALLBACK_ACTIONS;
    }
    const table = raw;
    const run = isActionMap(table.run) ? table.run : null;
    const batch = isActionMap(table.batch) ? table.batch : null;
    if (!run && !batch) {
        return FALLBACK_ACTIONS;
    }
    const runMap = run ? { ...run } : FALLBACK_ACTIONS.run;
    // A server that allows `stop` but says nothing of a forced stop: force is allowed wherever a
    // run has not ended (DESIGN.md: "any non-final -> stopped").
    if (run && !('force-stop' in run) && 'stop' in run) {
        const ended = new Set(run.remove ?? ['succeeded', 'failed', 'stopped']);
        const known = new Set(Object.values(run).flat());
        runMap['force-stop'] = [...known, 'stopping'].filter((s, i, all) => !ended.has(s) && all.indexOf(s) === i);
    }
    return {
        run: runMap,
        batch: batch ?? FALLBACK_ACTIONS.batch,
        source: 'server'
    };
}
/** True when `action` may be applied to an object of `kind` that is in `status`. */
function allowed(table, kind, action, status) {
    return (table[kind][action] ?? []).includes(status);
}
/** The actions that `status` allows, in the table's order. */
function allowedActions(table, kind, status) {
    return Object.keys(table[kind]).filter(action => table[kind][action].includes(status));
}


},
"./lib/api.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  API_PATH: () => (API_PATH),
  JobextAPI: () => (JobextAPI),
  JobextError: () => (JobextError),
  errorFromResponse: () => (errorFromResponse),
  errorMessage: () => (errorMessage),
  filenameFromDisposition: () => (filenameFromDisposition),
  queryString: () => (queryString)
});
/* import */ var _jupyterlab_coreutils__rspack_import_0 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/coreutils");
/* import */ var _jupyterlab_services__rspack_import_1 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/services");
/* import */ var _sse__rspack_import_2 = __webpack_require__("./lib/sse.js");
/**
 * Every REST call of the panel, in one place. Requests go through
 * `ServerConnection.makeRequest`, which adds the Authorization header and the XSRF token;
 * event streams are read with the same function (fetch), never with a token in a URL.
 */



/** Where the API lives under the server's base URL. */
const API_PATH = 'jobext/api/v1';
/** An error answer of the server: its `message`, `reason` and (where one input is at fault)
 * `field`, as jobext sends them. */
class JobextError extends Error {
    status;
    reason;
    field;
    constructor(status, message, reason = null, field = null) {
        super(message);
        this.status = status;
        this.reason = reason;
        this.field = field;
        this.name = 'JobextError';
    }
    /** The message with the field it names, as shown to users. */
    get display() {
        return this.field ? `${this.field}: ${this.message}` : this.message;
    }
    /** True when the endpoint itself is missing (an older server), not an unknown id. */
    get notAvailable() {
        return this.status === 404 && this.reason === null;
    }
}
/** The text to show for any error the API calls may throw. */
function errorMessage(error) {
    if (error instanceof JobextError) {
        return error.display;
    }
    if (error instanceof Error) {
        return error.message;
    }
    return String(error);
}
/** Build a JobextError from a non-2xx response. */
async function errorFromResponse(response) {
    let message = `${response.status} ${response.statusText || 'error'}`.trim();
    let reason = null;
    let field = null;
    const text = await response.text().catch(() => '');
    try {
        const body = JSON.parse(text);
        if (body && typeof body === 'object') {
            if (typeof body.message === 'string' && body.message) {
                message = body.message;
            }
            // jupyter_server's own 404 for an unknown route has reason null (or none): only a
            // jobext error carries a short code.
            reason = typeof body.reason === 'string' && body.reason ? body.reason : null;
            field = typeof body.field === 'string' ? body.field : null;
        }
    }
    catch {
        // An HTML error page: keep the status line.
    }
    return new JobextError(response.status, message, reason, field);
}
/** `?a=1&b=x` of the defined values ('' when none). */
function queryString(query = {}) {
    const parts = [];
    for (const [key, value] of Object.entries(query)) {
        if (value === undefined || value === null || value === '') {
            continue;
        }
        parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
    }
    return parts.length ? `?${parts.join('&')}` : '';
}
/** The name in a `Content-Disposition: attachment; filename="..."` header. */
function filenameFromDisposition(header, fallback) {
    if (!header) {
        return fallback;
    }
    const star = /filename\*\s*=\s*(?:UTF-8'')?([^;]+)/i.exec(header);
    if (star) {
        try {
            return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''));
        }
        catch {
            // fall through to the plain form
        }
    }
    const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(header);
    return plain ? plain[1].trim() : fallback;
}
/** The jobext REST API, as seen from one JupyterLab tab. */
class JobextAPI {
    settings;
    constructor(settings = _jupyterlab_services__rspack_import_1.ServerConnection.makeSettings()) {
        this.settings = settings;
    }
    /** The absolute URL of an API path (`runs/3/result`). */
    url(path, query) {
        return _jupyterlab_coreutils__rspack_import_0.URLExt.join(this.settings.baseUrl, API_PATH, path) + queryString(query);
    }
    /** Send one request; the parsed JSON answer (undefined for 204), or a JobextError. */
    async request(method, path, body, query) {
        const init = { method };
        if (body !== undefined) {
            init.body = JSON.stringify(body);
            init.headers = { 'Content-Type': 'application/json' };
        }
        const response = await _jupyterlab_services__rspack_import_1.ServerConnection.makeRequest(this.url(path, query), init, this.settings);
        if (!response.ok) {
            throw await errorFromResponse(response);
        }
        if (response.status === 204) {
            return undefined;
        }
        const text = await response.text();
        return (text ? JSON.parse(text) : undefined);
    }
    // -- jobs
    listJobs(options = {}) {
        return this.request('GET', 'jobs', undefined, { ...options });
    }
    getJob(name) {
        return this.request('GET', `jobs/${encodeURIComponent(name)}`);
    }
    createJob(job) {
        return this.request('POST', 'jobs', job);
    }
    updateJob(name, changes) {
        return this.request('PATCH', `jobs/${encodeURIComponent(name)}`, changes);
    }
    deleteJob(name) {
        return this.request('DELETE', `jobs/${encodeURIComponent(name)}`);
    }
    jobStats(name) {
        return this.request('GET', `jobs/${encodeURIComponent(name)}/stats`);
    }
    /** Start a run of a job; `args` are merged over its default args by the server. */
    enqueue(name, args) {
        const body = args === undefined ? {} : { args };
        return this.request('POST', `jobs/${encodeURIComponent(name)}/runs`, body);
    }
    // -- runs
    listRuns(filter = {}, options = {}) {
        return this.request('GET', 'runs', undefined, { ...filter, ...options });
    }
    getRun(id) {
        return this.request('GET', `runs/${id}`);
    }
    /** `stop` (optionally forced), `pause` or `resume`: the run after it. */
    runAction(id, action, force = false) {
        return this.request('POST', `runs/${id}/${action}`, undefined, force ? { force: true } : {});
    }
    /** A new run from a failed or stopped one. */
    restartRun(id) {
        return this.request('POST', `runs/${id}/restart`);
    }
    removeRun(id) {
        return this.request('DELETE', `runs/${id}`);
    }
    logs(id, after = 0, limit = 1000) {
        return this.request('GET', `runs/${id}/logs`, undefined, { after, limit });
    }
    /** Download a run's result with the user's authentication (`format: 'html'` for the HTML
     * copy of an executed notebook). */
    async downloadResult(id, format) {
        const response = await _jupyterlab_services__rspack_import_1.ServerConnection.makeRequest(this.url(`runs/${id}/result`, { format }), { method: 'GET' }, this.settings);
        if (!response.ok) {
            throw await errorFromResponse(response);
        }
        const blob = await response.blob();
        return {
            blob,
            filename: filenameFromDisposition(response.headers.get('Content-Disposition'), `run-${id}${format ? '.' + format : ''}`),
            mediaType: response.headers.get('Content-Type') ?? 'application/octet-stream'
        };
    }
    /** The first `bytes` of a run's result as text (a CSV preview). */
    async resultHead(id, bytes = 65536) {
        const response = await _jupyterlab_services__rspack_import_1.ServerConnection.makeRequest(this.url(`runs/${id}/result`), { method: 'GET', headers: { Range: `bytes=0-${bytes - 1}` } }, this.settings);
        if (!response.ok) {
            throw await errorFromResponse(response);
        }
        return response.text();
    }
    // -- schedules
    listSchedules(options = {}) {
        return this.request('GET', 'schedules', undefined, { ...options });
    }
    createSchedule(schedule) {
        return this.request('POST', 'schedules', schedule);
    }
    updateSchedule(id, changes) {
        return this.request('PATCH', `schedules/${id}`, changes);
    }
    deleteSchedule(id) {
        return this.request('DELETE', `schedules/${id}`);
    }
    setScheduleActive(id, active) {
        return this.request('POST', `schedules/${id}/${active ? 'resume' : 'pause'}`);
    }
    previewSchedule(cron, timezone, count = 5) {
        return this.request('POST', 'schedules/preview', { cron, timezone, count });
    }
    scheduleFires(id, options = {}) {
        return this.request('GET', `schedules/${id}/fires`, undefined, { ...options });
    }
    // -- batches and workers (newer servers)
    listBatches(options = {}) {
        const { job, ...rest } = options;
        const path = job ? `jobs/${encodeURIComponent(job)}/batches` : 'batches';
        return this.request('GET', path, undefined, { ...rest });
    }
    batchDirective(id, directive, jobsPerSecond) {
        return this.request('POST', `batches/${id}/${directive}`, undefined, {
            jobs_per_second: jobsPerSecond
        });
    }
    listWorkers(options = {}) {
        return this.request('GET', 'workers', undefined, { ...options });
    }
    workerAction(id, action) {
        return this.request('POST', `workers/${encodeURIComponent(id)}/${action}`);
    }
    // -- the rest
    stats() {
        return this.request('GET', 'stats');
    }
    connections() {
        return this.request('GET', 'connections');
    }
    openapi() {
        return this.request('GET', 'openapi.json');
    }
    // -- event streams
    /**
     * Read an event stream (`events`, `runs/{id}/events`) once, from `lastEventId` on, until
     * the server ends it or `signal` aborts; resolves with the id to resume from. A refused
     * stream (404 on an older server, 403) rejects with a `StreamRefused`.
     */
    async stream(path, handlers, options = {}) {
        const headers = {
            Accept: 'text/event-stream',
            'Cache-Control': 'no-cache'
        };
        if (options.lastEventId) {
            headers['Last-Event-ID'] = options.lastEventId;
        }
        const response = await _jupyterlab_services__rspack_import_1.ServerConnection.makeRequest(this.url(path), { method: 'GET', headers, signal: options.signal, cache: 'no-store' }, this.settings);
        const parser = new _sse__rspack_import_2.SSEParser();
        parser.lastEventId = options.lastEventId ?? '';
        await (0,_sse__rspack_import_2.consumeStream)(response, handlers, parser);
        return parser.lastEventId;
    }
}


},
"./lib/components/BatchesSection.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  BatchesSection: () => (BatchesSection),
  subJobCounts: () => (subJobCounts)
});
/* import */ var _jupyterlab_apputils__rspack_import_0 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/apputils");
/* import */ var react__rspack_import_1 = __webpack_require__("webpack/sharing/consume/default/react");
/* import */ var _actions__rspack_import_3 = __webpack_require__("./lib/actions.js");
/* import */ var _api__rspack_import_4 = __webpack_require__("./lib/api.js");
/* import */ var _common__rspack_import_2 = __webpack_require__("./lib/components/common.js");
/** The Batches section: status, percent complete, per-status counts, the four directives. */





const DIRECTIVES = ['start', 'stop', 'pause', 'unpause'];
/** `{status: count}` of a batch's sub-jobs. */
function subJobCounts(batch) {
    const counts = new Map();
    for (const sub of batch.sub_jobs ?? []) {
        counts.set(sub.status, (counts.get(sub.status) ?? 0) + 1);
    }
    return [...counts.entries()];
}
function BatchRow(props) {
    const { ctx, batch } = props;
    const percent = batch.percent_complete;
    return (react__rspack_import_1.createElement("li", { className: "jp-jobext-item jp-jobext-batch", "data-batch": batch.id, "data-status": batch.status },
        react__rspack_import_1.createElement("div", { className: "jp-jobext-item-head" },
            react__rspack_import_1.createElement(_common__rspack_import_2.StatusBadge, { status: batch.status }),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-name" },
                batch.job,
                " batch #",
                batch.id),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-spacer" }),
            percent !== null && percent !== undefined && (react__rspack_import_1.createElement("span", { className: "jp-jobext-percent" },
                Math.round(percent),
                "%"))),
        react__rspack_import_1.createElement(_common__rspack_import_2.ProgressBar, { value: percent === null || percent === undefined ? null : percent / 100 }),
        react__rspack_import_1.createElement("div", { className: "jp-jobext-counts" },
            subJobCounts(batch).map(([status, count]) => (react__rspack_import_1.createElement("span", { key: status, className: "jp-jobext-count", "data-status": status },
                status,
                " ",
                count))),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-count" },
                "failures ",
                batch.failures,
                "/",
                batch.failures_to_ignore)),
        batch.error && react__rspack_import_1.createElement("div", { className: "jp-jobext-error" }, batch.error),
        react__rspack_import_1.createElement("div", { className: "jp-jobext-buttons" },
            DIRECTIVES.map(d => (react__rspack_import_1.createElement(_common__rspack_import_2.ActionButton, { key: d, label: d[0].toUpperCase() + d.slice(1), name: d, disabled: !(0,_actions__rspack_import_3.allowed)(ctx.model.actions, 'batch', d, batch.status), onClick: async () => {
                    try {
                        ctx.model.applyEvent({
                            id: '',
                            event: 'batch',
                            data: JSON.stringify(await ctx.api.batchDirective(batch.id, d))
                        });
                    }
                    catch (e) {
                        _jupyterlab_apputils__rspack_import_0.Notification.error(`${d} batch ${batch.id}: ${(0,_api__rspack_import_4.errorMessage)(e)}`, { autoClose: 8000 });
                    }
                } }))),
            react__rspack_import_1.createElement(_common__rspack_import_2.ActionButton, { label: "Runs", onClick: () => void ctx.model.setRunFilter({ batch: batch.id }) }))));
}
function BatchesSection(props) {
    const { ctx } = props;
    const list = ctx.model.batches;
    if (!list.available) {
        return react__rspack_import_1.createElement(_common__rspack_import_2.NotAvailable, { what: "Batches" });
    }
    return (react__rspack_import_1.createElement("div", { className: "jp-jobext-section", "data-section": "batches" },
        react__rspack_import_1.createElement(_common__rspack_import_2.ErrorLine, { error: list.error }),
        list.loaded && list.items.length === 0 && !list.error && react__rspack_import_1.createElement(_common__rspack_import_2.Empty, null, "No batches."),
        react__rspack_import_1.createElement("ul", { className: "jp-jobext-list" }, list.items.map(b => (react__rspack_import_1.createElement(BatchRow, { key: b.id, ctx: ctx, batch: b }))))));
}


},
"./lib/components/JobsSection.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  JobsSection: () => (JobsSection),
  deleteJob: () => (deleteJob),
  runJob: () => (runJob)
});
/* import */ var _jupyterlab_apputils__rspack_import_0 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/apputils");
/* import */ var react__rspack_import_1 = __webpack_require__("webpack/sharing/consume/default/react");
/* import */ var _api__rspack_import_3 = __webpack_require__("./lib/api.js");
/* import */ var _dialogs__rspack_import_2 = __webpack_require__("./lib/dialogs.js");
/* import */ var _common__rspack_import_4 = __webpack_require__("./lib/components/common.js");
/** The Jobs section: search, run with args, register, edit, duplicate, delete. */





/** Delete a job after a confirmation that names what goes with it. */
async function deleteJob(ctx, job) {
    let what = 'its runs, their logs and results';
    try {
        const [stats, schedules] = await Promise.all([
            ctx.api.jobStats(job.name),
            ctx.api.listSchedules({ job: job.name, per_page: 1 })
        ]);
        what = `its ${stats.total} run(s) with their logs and results, and its ${schedules.total} schedule(s)`;
    }
    catch {
        // keep the general wording
    }
    if (!(await (0,_dialogs__rspack_import_2.confirm)(`Delete job ${job.name}?`, `This deletes job "${job.name}" and ${what}.`))) {
        return;
    }
    try {
        await ctx.api.deleteJob(job.name);
    }
    catch (e) {
        _jupyterlab_apputils__rspack_import_0.Notification.error(`Could not delete ${job.name}: ${(0,_api__rspack_import_3.errorMessage)(e)}`, { autoClose: 8000 });
    }
    await ctx.model.refresh(['jobs', 'runs', 'schedules']);
}
async function runJob(ctx, job) {
    const run = await (0,_dialogs__rspack_import_2.runJobDialog)(ctx.api, job);
    if (run) {
        ctx.model.watch(run);
        ctx.model.applyRun(run);
        ctx.openRun(run.id);
    }
}
function JobRow(props) {
    const { ctx, job } = props;
    const [open, setOpen] = react__rspack_import_1.useState(false);
    return (react__rspack_import_1.createElement("li", { className: "jp-jobext-item jp-jobext-job", "data-job": job.name },
        react__rspack_import_1.createElement("div", { className: "jp-jobext-item-head", onClick: () => setOpen(!open) },
            react__rspack_import_1.createElement("span", { className: "jp-jobext-kind" }, job.kind),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-name", title: job.description || job.target }, job.name),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-spacer" }),
            react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "Run", accept: true, onClick: () => void runJob(ctx, job) })),
        open && (react__rspack_import_1.createElement("div", { className: "jp-jobext-item-body" },
            job.description && react__rspack_import_1.createElement("div", { className: "jp-jobext-description" }, job.description),
            react__rspack_import_1.createElement("code", { className: "jp-jobext-target" }, job.target),
            react__rspack_import_1.createElement("div", { className: "jp-jobext-buttons" },
                react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "Edit", onClick: () => void (0,_dialogs__rspack_import_2.editJobDialog)(ctx.api, { editing: job }).then(changed => changed && ctx.model.refresh(['jobs'])) }),
                react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "Duplicate", onClick: () => void (0,_dialogs__rspack_import_2.editJobDialog)(ctx.api, {
                        from: { ...job, name: `${job.name}-copy` },
                        title: `Duplicate ${job.name}`
                    }).then(created => created && ctx.model.refresh(['jobs'])) }),
                react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "Schedule", onClick: () => void (0,_dialogs__rspack_import_2.scheduleDialog)(ctx.api, { job: job.name }).then(s => s && ctx.model.refresh(['schedules'])) }),
                react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "Runs", title: "Show this job's runs", onClick: () => void ctx.model.setRunFilter({ ...ctx.model.runFilter, job: job.name }) }),
                react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "Delete", warn: true, onClick: () => void deleteJob(ctx, job) }))))));
}
function JobsSection(props) {
    const { ctx } = props;
    const { model } = ctx;
    const [search, setSearch] = react__rspack_import_1.useState(model.jobSearch);
    react__rspack_import_1.useEffect(() => {
        if (search === model.jobSearch) {
            return;
        }
        const timer = setTimeout(() => void model.setJobSearch(search), 250);
        return () => clearTimeout(timer);
    }, [search]);
    const list = model.jobs;
    return (react__rspack_import_1.createElement("div", { className: "jp-jobext-section", "data-section": "jobs" },
        react__rspack_import_1.createElement("div", { className: "jp-jobext-toolbar" },
            react__rspack_import_1.createElement("input", { className: "jp-mod-styled jp-jobext-search", placeholder: "Search jobs", value: search, onChange: e => setSearch(e.target.value) }),
            react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "New job", name: "new-job", accept: true, onClick: () => void (0,_dialogs__rspack_import_2.editJobDialog)(ctx.api, {}).then(job => job && model.refresh(['jobs'])) })),
        react__rspack_import_1.createElement(_common__rspack_import_4.ErrorLine, { error: list.error }),
        list.loaded && list.items.length === 0 && !list.error && (react__rspack_import_1.createElement(_common__rspack_import_4.Empty, null, model.jobSearch ? 'No job matches.' : 'No jobs yet: register one with "New job".')),
        react__rspack_import_1.createElement("ul", { className: "jp-jobext-list" }, list.items.map(job => (react__rspack_import_1.createElement(JobRow, { key: job.name, ctx: ctx, job: job })))),
        list.total > list.items.length && (react__rspack_import_1.createElement("div", { className: "jp-jobext-hint" },
            list.items.length,
            " of ",
            list.total,
            " shown; search to narrow."))));
}


},
"./lib/components/RunDetail.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  LOG_WINDOW: () => (LOG_WINDOW),
  RunDetail: () => (RunDetail),
  saveDownload: () => (saveDownload)
});
/* import */ var _jupyterlab_apputils__rspack_import_0 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/apputils");
/* import */ var react__rspack_import_1 = __webpack_require__("webpack/sharing/consume/default/react");
/* import */ var _actions__rspack_import_6 = __webpack_require__("./lib/actions.js");
/* import */ var _api__rspack_import_2 = __webpack_require__("./lib/api.js");
/* import */ var _format__rspack_import_3 = __webpack_require__("./lib/format.js");
/* import */ var _model__rspack_import_5 = __webpack_require__("./lib/model.js");
/* import */ var _types__rspack_import_7 = __webpack_require__("./lib/types.js");
/* import */ var _common__rspack_import_4 = __webpack_require__("./lib/components/common.js");
/**
 * A run in the main area: state, progress, steps, args, times, the error's last lines, the
 * live log (its own event stream, resumed with Last-Event-ID), the controls the actions table
 * allows, and the result (download, CSV preview, executed notebook).
 */








/** Lines shown at first; "load earlier" shows this many more each time. */
const LOG_WINDOW = 1000;
/** Save a downloaded file through the browser (the user's authentication was on the request). */
function saveDownload(download) {
    const url = URL.createObjectURL(download.blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = download.filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
}
/** A run's log lines and state, fed by its event stream. */
function useRunStream(api, runId, onRun) {
    const lines = react__rspack_import_1.useRef([]);
    const [version, setVersion] = react__rspack_import_1.useState(0);
    const [connected, setConnected] = react__rspack_import_1.useState(false);
    const [error, setError] = react__rspack_import_1.useState(null);
    react__rspack_import_1.useEffect(() => {
        const abort = new AbortController();
        let lastId = '';
        let closed = false;
        let pending = false;
        const flush = () => {
            if (!pending) {
                pending = true;
                requestAnimationFrame(() => {
                    pending = false;
                    setVersion(v => v + 1);
                });
            }
        };
        const onEvent = (event) => {
            let data;
            try {
                data = JSON.parse(event.data);
            }
            catch {
                return;
            }
            switch (event.event) {
                case 'log':
                    lines.current.push(data);
                    flush();
                    break;
                case 'state':
                case 'close':
                    onRun(data);
                    if (event.event === 'close') {
                        closed = true;
                    }
                    break;
                case 'progress':
                    onRun(data);
                    break;
            }
        };
        (async () => {
            let failures = 0;
            while (!abort.signal.aborted && !closed) {
                try {
                    lastId = await api.stream(`runs/${runId}/events`, {
                        onOpen: () => {
                            failures = 0;
                            setConnected(true);
                            setError(null);
                        },
                        onEvent
                    }, { lastEventId: lastId, signal: abort.signal });
                }
                catch (e) {
                    if (abort.signal.aborted) {
                        return;
                    }
                    failures++;
                    setError(`log stream: ${(0,_api__rspack_import_2.errorMessage)(e)}`);
                    if (e.status === 404) {
                        return;
                    }
                }
                setConnected(false);
                if (!closed) {
                    await new Promise(r => setTimeout(r, Math.min(15000, 500 * 2 ** failures)));
                }
            }
        })();
        return () => abort.abort();
    }, [api, runId]);
    return { lines: lines.current, version, connected, error };
}
function LogView(props) {
    const { lines } = props;
    const [shown, setShown] = react__rspack_import_1.useState(LOG_WINDOW);
    const box = react__rspack_import_1.useRef(null);
    const stick = react__rspack_import_1.useRef(true);
    react__rspack_import_1.useLayoutEffect(() => {
        if (stick.current && box.current) {
            box.current.scrollTop = box.current.scrollHeight;
        }
    }, [props.version]);
    const start = Math.max(0, lines.length - shown);
    const visible = lines.slice(start);
    return (react__rspack_import_1.createElement("div", { className: "jp-jobext-log-wrap" },
        start > 0 && (react__rspack_import_1.createElement("button", { type: "button", className: "jp-Button jp-mod-styled jp-jobext-load-earlier", onClick: () => setShown(shown + LOG_WINDOW * 5) },
            "Load earlier (",
            start,
            " more lines)")),
        react__rspack_import_1.createElement("div", { className: "jp-jobext-log", ref: box, onScroll: () => {
                const el = box.current;
                if (el) {
                    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 30;
                }
            } },
            visible.map(line => (react__rspack_import_1.createElement("div", { key: line.seq, className: `jp-jobext-log-line jp-jobext-log-${line.stream ?? 'log'} jp-jobext-level-${line.level ?? ''}`, "data-seq": line.seq },
                react__rspack_import_1.createElement("span", { className: "jp-jobext-log-ts" }, (0,_format__rspack_import_3.formatTime)(line.ts).slice(11)),
                react__rspack_import_1.createElement("span", { className: "jp-jobext-log-text" }, line.text)))),
            lines.length === 0 && (react__rspack_import_1.createElement("div", { className: "jp-jobext-hint" }, props.live ? 'waiting for output…' : 'no output')))));
}
function CsvPreview(props) {
    const [rows, setRows] = react__rspack_import_1.useState(null);
    const [error, setError] = react__rspack_import_1.useState(null);
    react__rspack_import_1.useEffect(() => {
        const size = props.run.result?.size ?? 0;
        props.api
            .resultHead(props.run.id)
            .then(text => setRows((0,_format__rspack_import_3.parseCsv)(text, 21, size > 0 && size <= 65536)))
            .catch(e => setError((0,_api__rspack_import_2.errorMessage)(e)));
    }, [props.run.id]);
    if (error) {
        return react__rspack_import_1.createElement(_common__rspack_import_4.ErrorLine, { error: error });
    }
    if (!rows || rows.length === 0) {
        return null;
    }
    const [head, ...body] = rows;
    return (react__rspack_import_1.createElement("div", { className: "jp-jobext-csv-wrap" },
        react__rspack_import_1.createElement("table", { className: "jp-jobext-csv" },
            react__rspack_import_1.createElement("thead", null,
                react__rspack_import_1.createElement("tr", null, head.map((h, i) => (react__rspack_import_1.createElement("th", { key: i }, h))))),
            react__rspack_import_1.createElement("tbody", null, body.map((row, i) => (react__rspack_import_1.createElement("tr", { key: i }, row.map((cell, j) => (react__rspack_import_1.createElement("td", { key: j }, cell)))))))),
        react__rspack_import_1.createElement("div", { className: "jp-jobext-hint" },
            "first ",
            body.length,
            " rows")));
}
function isCsv(run) {
    const result = run.result;
    return !!result && (/csv/.test(result.media_type ?? '') || result.filename.endsWith('.csv'));
}
function RunDetail(props) {
    const { api, model, runId } = props;
    const [run, setRun] = react__rspack_import_1.useState(null);
    const [error, setError] = react__rspack_import_1.useState(null);
    const [busy, setBusy] = react__rspack_import_1.useState(false);
    const update = react__rspack_import_1.useCallback((data) => {
        setRun(current => {
            const next = current ? (0,_model__rspack_import_5.mergeRun)(current, data) : data.id ? data : current;
            if (next && data.id) {
                props.onTitle(next);
            }
            return next;
        });
    }, [runId]);
    react__rspack_import_1.useEffect(() => {
        api
            .getRun(runId)
            .then(r => (update(r), setError(null)))
            .catch(e => setError((0,_api__rspack_import_2.errorMessage)(e)));
        const onModel = (_, r) => r.id === runId && update(r);
        model.runUpdated.connect(onModel);
        return () => {
            model.runUpdated.disconnect(onModel);
        };
    }, [runId]);
    const stream = useRunStream(api, runId, update);
    if (!run) {
        return (react__rspack_import_1.createElement("div", { className: "jp-jobext-detail" },
            react__rspack_import_1.createElement(_common__rspack_import_4.ErrorLine, { error: error }),
            !error && react__rspack_import_1.createElement("div", { className: "jp-jobext-hint" },
                "loading run ",
                runId,
                "\u2026")));
    }
    const table = model.actions;
    const can = (action) => (0,_actions__rspack_import_6.allowed)(table, 'run', action, run.status);
    const act = async (what, call) => {
        setBusy(true);
        try {
            const result = await call();
            if (result && result.id === run.id) {
                update(result);
                model.applyRun(result);
            }
            else if (result) {
                model.watch(result);
                model.applyRun(result);
                props.openRun(result.id);
            }
            setError(null);
        }
        catch (e) {
            setError(`${what}: ${(0,_api__rspack_import_2.errorMessage)(e)}`);
        }
        finally {
            setBusy(false);
        }
    };
    const download = async (format) => {
        try {
            saveDownload(await api.downloadResult(run.id, format));
        }
        catch (e) {
            _jupyterlab_apputils__rspack_import_0.Notification.error(`Download of run ${run.id}: ${(0,_api__rspack_import_2.errorMessage)(e)}`, { autoClose: 8000 });
        }
    };
    const final = _types__rspack_import_7.FINAL_STATUSES.has(run.status);
    const argsText = run.args === null || run.args === undefined ? '' : JSON.stringify(run.args, null, 2);
    return (react__rspack_import_1.createElement("div", { className: "jp-jobext-detail", "data-run": run.id, "data-status": run.status },
        react__rspack_import_1.createElement("div", { className: "jp-jobext-detail-head" },
            react__rspack_import_1.createElement(_common__rspack_import_4.StatusBadge, { status: run.status }),
            react__rspack_import_1.createElement("h2", null,
                run.job,
                " ",
                react__rspack_import_1.createElement("span", { className: "jp-jobext-runid" },
                    "#",
                    run.id)),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-hint" },
                run.kind,
                " \u00B7 ",
                run.trigger,
                run.user ? ` by ${run.user}` : '',
                run.attempt > 1 ? ` · attempt ${run.attempt}` : '',
                run.worker ? ` · on ${run.worker}` : ''),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-spacer" }),
            react__rspack_import_1.createElement("span", { className: `jp-jobext-live ${stream.connected ? 'jp-mod-live' : ''}` }, stream.connected ? '● live' : final ? '' : '○ reconnecting')),
        react__rspack_import_1.createElement("div", { className: "jp-jobext-buttons jp-jobext-controls" },
            react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "Stop", disabled: busy || !can('stop'), onClick: () => void act('stop', () => api.runAction(run.id, 'stop')) }),
            react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "Force stop", name: "force-stop", warn: true, disabled: busy || !can('force-stop'), title: "Mark it stopped at once and kill its process", onClick: () => void act('force stop', () => api.runAction(run.id, 'stop', true)) }),
            react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "Pause", disabled: busy || !can('pause'), onClick: () => void act('pause', () => api.runAction(run.id, 'pause')) }),
            react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "Resume", disabled: busy || !can('resume'), onClick: () => void act('resume', () => api.runAction(run.id, 'resume')) }),
            react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "Restart", disabled: busy || !can('restart'), onClick: () => void act('restart', () => api.restartRun(run.id)) }),
            react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "Remove", warn: true, disabled: busy || !can('remove'), onClick: () => void act('remove', () => api.removeRun(run.id)).then(() => void model.refresh(['runs'])) })),
        react__rspack_import_1.createElement(_common__rspack_import_4.ErrorLine, { error: error }),
        (run.progress !== null || run.message) && (react__rspack_import_1.createElement("div", { className: "jp-jobext-detail-progress" },
            react__rspack_import_1.createElement(_common__rspack_import_4.ProgressBar, { value: run.progress }),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-message" },
                run.progress !== null ? `${Math.round(run.progress * 100)}% ` : '',
                run.message ?? ''))),
        react__rspack_import_1.createElement("table", { className: "jp-jobext-facts" },
            react__rspack_import_1.createElement("tbody", null,
                react__rspack_import_1.createElement("tr", null,
                    react__rspack_import_1.createElement("th", null, "created"),
                    react__rspack_import_1.createElement("td", null, (0,_format__rspack_import_3.formatTime)(run.created_at)),
                    react__rspack_import_1.createElement("th", null, "started"),
                    react__rspack_import_1.createElement("td", null, (0,_format__rspack_import_3.formatTime)(run.started_at))),
                react__rspack_import_1.createElement("tr", null,
                    react__rspack_import_1.createElement("th", null, "ended"),
                    react__rspack_import_1.createElement("td", { "data-fact": "ended" }, (0,_format__rspack_import_3.formatTime)(run.ended_at)),
                    react__rspack_import_1.createElement("th", null, "duration"),
                    react__rspack_import_1.createElement("td", { "data-fact": "duration" }, (0,_format__rspack_import_3.formatDuration)(run.duration_s))),
                (run.records_written !== null || run.exit_code !== null) && (react__rspack_import_1.createElement("tr", null,
                    react__rspack_import_1.createElement("th", null, "records"),
                    react__rspack_import_1.createElement("td", null, run.records_written ?? ''),
                    react__rspack_import_1.createElement("th", null, "exit code"),
                    react__rspack_import_1.createElement("td", null, run.exit_code ?? ''))),
                (run.restarted_from || run.restarted_as || run.scheduled_for) && (react__rspack_import_1.createElement("tr", null,
                    react__rspack_import_1.createElement("th", null, "related"),
                    react__rspack_import_1.createElement("td", { colSpan: 3 },
                        run.restarted_from && (react__rspack_import_1.createElement("a", { href: "#", onClick: e => (e.preventDefault(), props.openRun(run.restarted_from)) },
                            "restarted from #",
                            run.restarted_from,
                            ' ')),
                        run.restarted_as && (react__rspack_import_1.createElement("a", { href: "#", onClick: e => (e.preventDefault(), props.openRun(run.restarted_as)) },
                            "restarted as #",
                            run.restarted_as,
                            ' ')),
                        run.scheduled_for && `scheduled for ${(0,_format__rspack_import_3.formatTime)(run.scheduled_for)}`))))),
        argsText && (react__rspack_import_1.createElement("details", { className: "jp-jobext-args" },
            react__rspack_import_1.createElement("summary", null, "args"),
            react__rspack_import_1.createElement("pre", null, argsText))),
        run.steps.length > 0 && (react__rspack_import_1.createElement("ol", { className: "jp-jobext-steps" }, run.steps.map((s, i) => (react__rspack_import_1.createElement("li", { key: i, "data-status": s.status },
            react__rspack_import_1.createElement(_common__rspack_import_4.StatusBadge, { status: s.status }),
            " ",
            s.name,
            s.started_at && s.ended_at && (react__rspack_import_1.createElement("span", { className: "jp-jobext-hint" },
                ' ',
                (0,_format__rspack_import_3.formatDuration)((Date.parse(s.ended_at) - Date.parse(s.started_at)) / 1000)))))))),
        run.error && (react__rspack_import_1.createElement("div", { className: "jp-jobext-run-error" },
            react__rspack_import_1.createElement("div", { className: "jp-jobext-error" }, run.error.split('\n')[0]),
            run.error.includes('\n') && react__rspack_import_1.createElement("pre", null, (0,_format__rspack_import_3.tail)(run.error, 15)))),
        run.result && (react__rspack_import_1.createElement("div", { className: "jp-jobext-result" },
            react__rspack_import_1.createElement("span", null,
                "Result ",
                react__rspack_import_1.createElement("b", null, run.result.filename),
                " ",
                (0,_format__rspack_import_3.formatBytes)(run.result.size)),
            react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "Download", accept: true, name: "download", onClick: () => void download() }),
            run.kind === 'notebook' && (react__rspack_import_1.createElement(react__rspack_import_1.Fragment, null,
                react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "Download HTML", name: "download-html", onClick: () => void download('html') }),
                react__rspack_import_1.createElement(_common__rspack_import_4.ActionButton, { label: "Open executed notebook", name: "open-notebook", onClick: () => void props.openNotebook(run).catch(e => setError((0,_api__rspack_import_2.errorMessage)(e))) }))),
            isCsv(run) && react__rspack_import_1.createElement(CsvPreview, { api: api, run: run }))),
        react__rspack_import_1.createElement("h3", { className: "jp-jobext-log-title" }, "Log"),
        react__rspack_import_1.createElement(_common__rspack_import_4.ErrorLine, { error: stream.error }),
        react__rspack_import_1.createElement(LogView, { lines: stream.lines, version: stream.version, live: !final })));
}


},
"./lib/components/RunsSection.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  RunsSection: () => (RunsSection)
});
/* import */ var _jupyterlab_apputils__rspack_import_0 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/apputils");
/* import */ var react__rspack_import_1 = __webpack_require__("webpack/sharing/consume/default/react");
/* import */ var _actions__rspack_import_3 = __webpack_require__("./lib/actions.js");
/* import */ var _api__rspack_import_5 = __webpack_require__("./lib/api.js");
/* import */ var _dialogs__rspack_import_6 = __webpack_require__("./lib/dialogs.js");
/* import */ var _model__rspack_import_4 = __webpack_require__("./lib/model.js");
/* import */ var _common__rspack_import_2 = __webpack_require__("./lib/components/common.js");
/** The Runs section: filters, live status and progress, grouped or flat, bulk stop / remove. */







const STATUS_CHOICES = [
    ['', 'any status'],
    ['IN_PROGRESS', 'in progress'],
    ['queued', 'queued'],
    ['running', 'running'],
    ['paused', 'paused'],
    ['succeeded', 'succeeded'],
    ['failed', 'failed'],
    ['stopped', 'stopped'],
    ['FINISHED', 'finished']
];
function RunRow(props) {
    const { ctx, run } = props;
    return (react__rspack_import_1.createElement("li", { className: "jp-jobext-item jp-jobext-run", "data-run": run.id, "data-status": run.status, onClick: () => ctx.openRun(run.id), title: run.message ?? run.error ?? '' },
        react__rspack_import_1.createElement("div", { className: "jp-jobext-item-head" },
            react__rspack_import_1.createElement("input", { type: "checkbox", checked: props.selected, "aria-label": `select run ${run.id}`, onClick: e => e.stopPropagation(), onChange: e => props.onSelect(e.target.checked) }),
            react__rspack_import_1.createElement(_common__rspack_import_2.StatusBadge, { status: run.status }),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-name" },
                props.showJob ? `${run.job} ` : '',
                "#",
                run.id),
            run.trigger !== 'manual' && react__rspack_import_1.createElement("span", { className: "jp-jobext-trigger" }, run.trigger),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-spacer" }),
            react__rspack_import_1.createElement(_common__rspack_import_2.RunTimes, { run: run })),
        !['succeeded', 'failed', 'stopped'].includes(run.status) && run.progress !== null && (react__rspack_import_1.createElement("div", { className: "jp-jobext-item-progress" },
            react__rspack_import_1.createElement(_common__rspack_import_2.ProgressBar, { value: run.progress, label: run.message ?? undefined }),
            run.message && react__rspack_import_1.createElement("span", { className: "jp-jobext-message" }, run.message)))));
}
function Filters(props) {
    const { model } = props.ctx;
    const filter = model.runFilter;
    const set = (changes) => {
        const next = { ...filter, ...changes };
        for (const key of Object.keys(next)) {
            if (next[key] === '' || next[key] === undefined) {
                delete next[key];
            }
        }
        void model.setRunFilter(next);
    };
    return (react__rspack_import_1.createElement("div", { className: "jp-jobext-filters" },
        react__rspack_import_1.createElement("select", { className: "jp-mod-styled", name: "filter-job", value: filter.job ?? '', onChange: e => set({ job: e.target.value }), "aria-label": "job" },
            react__rspack_import_1.createElement("option", { value: "" }, "all jobs"),
            model.jobs.items.map(j => (react__rspack_import_1.createElement("option", { key: j.name, value: j.name }, j.name))),
            filter.job && !model.jobs.items.some(j => j.name === filter.job) && (react__rspack_import_1.createElement("option", { value: filter.job }, filter.job))),
        react__rspack_import_1.createElement("select", { className: "jp-mod-styled", name: "filter-status", value: filter.status ?? '', onChange: e => set({ status: e.target.value }), "aria-label": "status" }, STATUS_CHOICES.map(([value, label]) => (react__rspack_import_1.createElement("option", { key: value, value: value }, label)))),
        react__rspack_import_1.createElement("input", { className: "jp-mod-styled", type: "date", name: "filter-from", title: "created on or after (UTC)", value: filter.from ?? '', onChange: e => set({ from: e.target.value }) }),
        react__rspack_import_1.createElement("input", { className: "jp-mod-styled", type: "date", name: "filter-to", title: "created before the end of (UTC)", value: filter.to ? filter.to.slice(0, 10) : '', onChange: e => set({ to: e.target.value ? `${e.target.value}T23:59:59Z` : '' }) })));
}
function RunsSection(props) {
    const { ctx } = props;
    const { model, api } = ctx;
    const [selected, setSelected] = react__rspack_import_1.useState(new Set());
    const list = model.runs;
    const runs = list.items;
    const chosen = runs.filter(r => selected.has(r.id));
    const table = model.actions;
    const stoppable = chosen.filter(r => (0,_actions__rspack_import_3.allowed)(table, 'run', 'stop', r.status));
    const removable = chosen.filter(r => (0,_actions__rspack_import_3.allowed)(table, 'run', 'remove', r.status));
    const finished = (0,_model__rspack_import_4.finishedRuns)(runs).filter(r => (0,_actions__rspack_import_3.allowed)(table, 'run', 'remove', r.status));
    const select = (id, on) => {
        const next = new Set(selected);
        if (on) {
            next.add(id);
        }
        else {
            next.delete(id);
        }
        setSelected(next);
    };
    const apply = async (what, targets, act) => {
        const failures = [];
        for (const run of targets) {
            try {
                await act(run);
            }
            catch (e) {
                failures.push(`#${run.id}: ${(0,_api__rspack_import_5.errorMessage)(e)}`);
            }
        }
        if (failures.length) {
            _jupyterlab_apputils__rspack_import_0.Notification.error(`${what} failed for ${failures.join('; ')}`, { autoClose: 10000 });
        }
        setSelected(new Set());
        await model.refresh(['runs']);
    };
    const row = (run, showJob) => (react__rspack_import_1.createElement(RunRow, { key: run.id, ctx: ctx, run: run, showJob: showJob, selected: selected.has(run.id), onSelect: on => select(run.id, on) }));
    return (react__rspack_import_1.createElement("div", { className: "jp-jobext-section", "data-section": "runs" },
        react__rspack_import_1.createElement(Filters, { ctx: ctx }),
        react__rspack_import_1.createElement("div", { className: "jp-jobext-toolbar" },
            react__rspack_import_1.createElement("label", { className: "jp-jobext-check" },
                react__rspack_import_1.createElement("input", { type: "checkbox", name: "grouped", checked: model.runsGrouped, onChange: e => model.setGrouped(e.target.checked) }),
                "by job"),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-spacer" }),
            react__rspack_import_1.createElement(_common__rspack_import_2.ActionButton, { label: `Stop${stoppable.length ? ` (${stoppable.length})` : ''}`, name: "stop-selected", disabled: stoppable.length === 0, onClick: () => void apply('Stop', stoppable, r => api.runAction(r.id, 'stop')) }),
            react__rspack_import_1.createElement(_common__rspack_import_2.ActionButton, { label: `Remove${removable.length ? ` (${removable.length})` : ''}`, name: "remove-selected", warn: true, disabled: removable.length === 0, onClick: async () => {
                    if (await (0,_dialogs__rspack_import_6.confirm)(`Remove ${removable.length} run(s)?`, `Runs ${removable.map(r => '#' + r.id).join(', ')} go with their logs and results.`, 'Remove')) {
                        await apply('Remove', removable, r => api.removeRun(r.id));
                    }
                } }),
            react__rspack_import_1.createElement(_common__rspack_import_2.ActionButton, { label: "Clear finished", name: "clear-finished", disabled: finished.length === 0, title: "Remove the finished runs shown here, with their logs and results", onClick: async () => {
                    if (await (0,_dialogs__rspack_import_6.confirm)(`Remove ${finished.length} finished run(s)?`, `The finished runs shown (${finished.map(r => '#' + r.id).join(', ')}) go with their logs and results.`, 'Remove')) {
                        await apply('Remove', finished, r => api.removeRun(r.id));
                    }
                } })),
        react__rspack_import_1.createElement(_common__rspack_import_2.ErrorLine, { error: list.error }),
        list.loaded && runs.length === 0 && !list.error && react__rspack_import_1.createElement(_common__rspack_import_2.Empty, null, "No runs."),
        model.runsGrouped ? ((0,_model__rspack_import_4.groupByJob)(runs).map(([job, group]) => (react__rspack_import_1.createElement("div", { key: job, className: "jp-jobext-group", "data-group": job },
            react__rspack_import_1.createElement("div", { className: "jp-jobext-group-head" },
                job,
                " ",
                react__rspack_import_1.createElement("span", { className: "jp-jobext-count" }, group.length)),
            react__rspack_import_1.createElement("ul", { className: "jp-jobext-list" }, group.map(r => row(r, false))))))) : (react__rspack_import_1.createElement("ul", { className: "jp-jobext-list" }, runs.map(r => row(r, true)))),
        list.total > runs.length && (react__rspack_import_1.createElement("div", { className: "jp-jobext-hint" },
            "newest ",
            runs.length,
            " of ",
            list.total,
            "; filter to find older runs"))));
}


},
"./lib/components/SchedulesSection.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  SchedulesSection: () => (SchedulesSection)
});
/* import */ var _jupyterlab_apputils__rspack_import_0 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/apputils");
/* import */ var react__rspack_import_1 = __webpack_require__("webpack/sharing/consume/default/react");
/* import */ var _api__rspack_import_2 = __webpack_require__("./lib/api.js");
/* import */ var _dialogs__rspack_import_5 = __webpack_require__("./lib/dialogs.js");
/* import */ var _format__rspack_import_4 = __webpack_require__("./lib/format.js");
/* import */ var _common__rspack_import_3 = __webpack_require__("./lib/components/common.js");
/** The Schedules section: create / edit with a live preview, pause / resume / delete, fires. */






function Fires(props) {
    const [fires, setFires] = react__rspack_import_1.useState(null);
    const [error, setError] = react__rspack_import_1.useState(null);
    react__rspack_import_1.useEffect(() => {
        props.ctx.api
            .scheduleFires(props.schedule.id, { per_page: 20 })
            .then(page => setFires(page.items))
            .catch(e => setError((0,_api__rspack_import_2.errorMessage)(e)));
    }, [props.schedule.id, props.schedule.last_fire_at]);
    if (error) {
        return react__rspack_import_1.createElement(_common__rspack_import_3.ErrorLine, { error: error });
    }
    if (!fires) {
        return react__rspack_import_1.createElement("div", { className: "jp-jobext-hint" }, "\u2026");
    }
    if (!fires.length) {
        return react__rspack_import_1.createElement("div", { className: "jp-jobext-hint" }, "It has not fired yet.");
    }
    return (react__rspack_import_1.createElement("ul", { className: "jp-jobext-fires" }, fires.map(f => (react__rspack_import_1.createElement("li", { key: f.scheduled_for, className: `jp-jobext-fire jp-jobext-outcome-${f.outcome}` },
        (0,_format__rspack_import_4.formatTime)(f.scheduled_for),
        " \u00B7 ",
        f.outcome,
        f.run_id !== null && (react__rspack_import_1.createElement("a", { href: "#", onClick: e => (e.preventDefault(), props.ctx.openRun(f.run_id)) },
            ' ',
            "run #",
            f.run_id)),
        f.message && react__rspack_import_1.createElement("span", { className: "jp-jobext-message" },
            " ",
            f.message))))));
}
function ScheduleRow(props) {
    const { ctx, schedule } = props;
    const [open, setOpen] = react__rspack_import_1.useState(false);
    const act = async (what, call) => {
        try {
            await call();
        }
        catch (e) {
            _jupyterlab_apputils__rspack_import_0.Notification.error(`${what}: ${(0,_api__rspack_import_2.errorMessage)(e)}`, { autoClose: 8000 });
        }
        await ctx.model.refresh(['schedules']);
    };
    const next = schedule.next_fire_times[0];
    return (react__rspack_import_1.createElement("li", { className: "jp-jobext-item jp-jobext-schedule", "data-schedule": schedule.id },
        react__rspack_import_1.createElement("div", { className: "jp-jobext-item-head", onClick: () => setOpen(!open) },
            react__rspack_import_1.createElement("span", { className: `jp-jobext-status jp-jobext-status-${schedule.active ? 'active' : 'paused'}` }, schedule.active ? 'active' : 'paused'),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-name" }, schedule.job),
            react__rspack_import_1.createElement("code", { className: "jp-jobext-cron" }, schedule.cron),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-spacer" }),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-next", title: `next fire (your time); zone ${schedule.timezone}` }, next ? (0,_format__rspack_import_4.formatTime)(next) : '')),
        open && (react__rspack_import_1.createElement("div", { className: "jp-jobext-item-body" },
            react__rspack_import_1.createElement("div", { className: "jp-jobext-hint" },
                schedule.timezone,
                " \u00B7 misfire ",
                schedule.misfire,
                " \u00B7 overlap ",
                schedule.overlap,
                schedule.description ? ` · ${schedule.description}` : ''),
            schedule.next_fire_times.length > 0 && (react__rspack_import_1.createElement("div", { className: "jp-jobext-hint" },
                "next: ",
                schedule.next_fire_times.slice(0, 3).map(t => (0,_format__rspack_import_4.formatTime)(t, schedule.timezone)).join(', '),
                ' ',
                "(",
                schedule.timezone,
                ")")),
            react__rspack_import_1.createElement("div", { className: "jp-jobext-buttons" },
                schedule.active ? (react__rspack_import_1.createElement(_common__rspack_import_3.ActionButton, { label: "Pause", onClick: () => void act('Pause', () => ctx.api.setScheduleActive(schedule.id, false)) })) : (react__rspack_import_1.createElement(_common__rspack_import_3.ActionButton, { label: "Resume", onClick: () => void act('Resume', () => ctx.api.setScheduleActive(schedule.id, true)) })),
                react__rspack_import_1.createElement(_common__rspack_import_3.ActionButton, { label: "Edit", onClick: () => void (0,_dialogs__rspack_import_5.scheduleDialog)(ctx.api, { editing: schedule }).then(s => s && ctx.model.refresh(['schedules'])) }),
                react__rspack_import_1.createElement(_common__rspack_import_3.ActionButton, { label: "Delete", warn: true, onClick: async () => {
                        if (await (0,_dialogs__rspack_import_5.confirm)(`Delete schedule ${schedule.id}?`, `The schedule "${schedule.cron}" of ${schedule.job} and its log of fires go; its runs stay.`)) {
                            await act('Delete', () => ctx.api.deleteSchedule(schedule.id));
                        }
                    } })),
            react__rspack_import_1.createElement(Fires, { ctx: ctx, schedule: schedule })))));
}
function SchedulesSection(props) {
    const { ctx } = props;
    const list = ctx.model.schedules;
    if (!list.available) {
        return react__rspack_import_1.createElement(_common__rspack_import_3.NotAvailable, { what: "Schedules" });
    }
    return (react__rspack_import_1.createElement("div", { className: "jp-jobext-section", "data-section": "schedules" },
        react__rspack_import_1.createElement("div", { className: "jp-jobext-toolbar" },
            react__rspack_import_1.createElement("span", { className: "jp-jobext-spacer" }),
            react__rspack_import_1.createElement(_common__rspack_import_3.ActionButton, { label: "New schedule", name: "new-schedule", accept: true, onClick: () => void (0,_dialogs__rspack_import_5.scheduleDialog)(ctx.api, {}).then(s => s && ctx.model.refresh(['schedules'])) })),
        react__rspack_import_1.createElement(_common__rspack_import_3.ErrorLine, { error: list.error }),
        list.loaded && list.items.length === 0 && !list.error && react__rspack_import_1.createElement(_common__rspack_import_3.Empty, null, "No schedules."),
        react__rspack_import_1.createElement("ul", { className: "jp-jobext-list" }, list.items.map(s => (react__rspack_import_1.createElement(ScheduleRow, { key: s.id, ctx: ctx, schedule: s }))))));
}


},
"./lib/components/WorkersSection.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  WorkersSection: () => (WorkersSection)
});
/* import */ var _jupyterlab_apputils__rspack_import_0 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/apputils");
/* import */ var react__rspack_import_1 = __webpack_require__("webpack/sharing/consume/default/react");
/* import */ var _api__rspack_import_2 = __webpack_require__("./lib/api.js");
/* import */ var _format__rspack_import_4 = __webpack_require__("./lib/format.js");
/* import */ var _common__rspack_import_3 = __webpack_require__("./lib/components/common.js");
/** The Workers section: status, slots in use, CPU and memory, drain / resume. */





function num(value) {
    return typeof value === 'number' && isFinite(value) ? value : null;
}
function WorkerRow(props) {
    const { ctx, worker } = props;
    const slots = num(worker.slots);
    const running = num(worker.running) ?? (Array.isArray(worker.running_runs) ? worker.running_runs.length : null);
    const cpu = num(worker.cpu_percent);
    const memory = num(worker.memory_percent);
    const act = async (action) => {
        try {
            ctx.model.applyEvent({
                id: '',
                event: 'worker',
                data: JSON.stringify(await ctx.api.workerAction(worker.id, action))
            });
        }
        catch (e) {
            _jupyterlab_apputils__rspack_import_0.Notification.error(`${action} ${worker.id}: ${(0,_api__rspack_import_2.errorMessage)(e)}`, { autoClose: 8000 });
        }
    };
    return (react__rspack_import_1.createElement("li", { className: "jp-jobext-item jp-jobext-worker", "data-worker": worker.id, "data-status": worker.status },
        react__rspack_import_1.createElement("div", { className: "jp-jobext-item-head" },
            react__rspack_import_1.createElement(_common__rspack_import_3.StatusBadge, { status: worker.status }),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-name", title: String(worker.host ?? '') }, worker.id),
            react__rspack_import_1.createElement("span", { className: "jp-jobext-spacer" }),
            slots !== null && (react__rspack_import_1.createElement("span", { className: "jp-jobext-slots", title: "slots in use" },
                running ?? 0,
                "/",
                slots))),
        react__rspack_import_1.createElement("div", { className: "jp-jobext-meters" },
            cpu !== null && (react__rspack_import_1.createElement("div", { className: "jp-jobext-meter" },
                "CPU ",
                react__rspack_import_1.createElement(_common__rspack_import_3.ProgressBar, { value: cpu / 100, label: `CPU ${cpu.toFixed(0)}%` }))),
            memory !== null && (react__rspack_import_1.createElement("div", { className: "jp-jobext-meter" },
                "Memory",
                ' ',
                react__rspack_import_1.createElement(_common__rspack_import_3.ProgressBar, { value: memory / 100, label: `memory ${memory.toFixed(0)}% ${(0,_format__rspack_import_4.formatBytes)(num(worker.memory_used))}` })))),
        react__rspack_import_1.createElement("div", { className: "jp-jobext-buttons" },
            react__rspack_import_1.createElement(_common__rspack_import_3.ActionButton, { label: "Drain", disabled: worker.status !== 'online' && worker.status !== 'idle' && worker.status !== 'busy', onClick: () => void act('drain') }),
            react__rspack_import_1.createElement(_common__rspack_import_3.ActionButton, { label: "Resume", disabled: worker.status !== 'draining', onClick: () => void act('resume') }))));
}
function WorkersSection(props) {
    const { ctx } = props;
    const list = ctx.model.workers;
    if (!list.available) {
        return react__rspack_import_1.createElement(_common__rspack_import_3.NotAvailable, { what: "Workers" });
    }
    return (react__rspack_import_1.createElement("div", { className: "jp-jobext-section", "data-section": "workers" },
        react__rspack_import_1.createElement(_common__rspack_import_3.ErrorLine, { error: list.error }),
        list.loaded && list.items.length === 0 && !list.error && react__rspack_import_1.createElement(_common__rspack_import_3.Empty, null, "No workers."),
        react__rspack_import_1.createElement("ul", { className: "jp-jobext-list" }, list.items.map(w => (react__rspack_import_1.createElement(WorkerRow, { key: w.id, ctx: ctx, worker: w }))))));
}


},
"./lib/components/common.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  ActionButton: () => (ActionButton),
  Empty: () => (Empty),
  ErrorLine: () => (ErrorLine),
  NotAvailable: () => (NotAvailable),
  ProgressBar: () => (ProgressBar),
  RunTimes: () => (RunTimes),
  StatusBadge: () => (StatusBadge)
});
/* import */ var react__rspack_import_0 = __webpack_require__("webpack/sharing/consume/default/react");
/* import */ var _format__rspack_import_1 = __webpack_require__("./lib/format.js");
/** Small pieces every section uses: status badges, progress bars, buttons, messages. */


function StatusBadge(props) {
    return (react__rspack_import_0.createElement("span", { className: `jp-jobext-status jp-jobext-status-${props.status}`, "data-status": props.status }, props.status));
}
function ProgressBar(props) {
    if (props.value === null || props.value === undefined) {
        return null;
    }
    const percent = Math.max(0, Math.min(100, props.value * 100));
    return (react__rspack_import_0.createElement("div", { className: "jp-jobext-progress", role: "progressbar", "aria-valuenow": Math.round(percent), "aria-valuemin": 0, "aria-valuemax": 100, title: props.label ?? `${Math.round(percent)}%` },
        react__rspack_import_0.createElement("div", { className: "jp-jobext-progress-fill", style: { width: `${percent}%` } })));
}
function ActionButton(props) {
    const kind = props.warn ? 'jp-mod-warn' : props.accept ? 'jp-mod-accept' : 'jp-mod-reject';
    return (react__rspack_import_0.createElement("button", { type: "button", className: `jp-Button jp-mod-styled jp-jobext-button ${kind}`, disabled: props.disabled, title: props.title ?? props.label, "data-action": props.name ?? props.label.toLowerCase(), onClick: event => {
            event.stopPropagation();
            props.onClick();
        } }, props.label));
}
function ErrorLine(props) {
    if (!props.error) {
        return null;
    }
    return (react__rspack_import_0.createElement("div", { className: "jp-jobext-error", role: "alert" }, props.error));
}
function NotAvailable(props) {
    return (react__rspack_import_0.createElement("div", { className: "jp-jobext-unavailable" },
        props.what,
        " are not available on this server."));
}
function Empty(props) {
    return react__rspack_import_0.createElement("div", { className: "jp-jobext-empty" }, props.children);
}
/** The one-line description of a run's time: running for / ended at. */
function RunTimes(props) {
    const { run } = props;
    const duration = (0,_format__rspack_import_1.formatDuration)(run.duration_s);
    return (react__rspack_import_0.createElement("span", { className: "jp-jobext-times" },
        duration && react__rspack_import_0.createElement("span", { className: "jp-jobext-duration" }, duration),
        run.ended_at && (react__rspack_import_0.createElement("span", { className: "jp-jobext-ended", title: `ended ${run.ended_at}` },
            ' · ',
            (0,_format__rspack_import_1.formatTime)(run.ended_at)))));
}


},
"./lib/dialogs.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  SchedulePreview: () => (SchedulePreview),
  confirm: () => (confirm),
  editJobDialog: () => (editJobDialog),
  formDialog: () => (formDialog),
  jobForm: () => (jobForm),
  jobInput: () => (jobInput),
  runArgs: () => (runArgs),
  runForm: () => (runForm),
  runJobDialog: () => (runJobDialog),
  scheduleDialog: () => (scheduleDialog),
  scheduleForm: () => (scheduleForm),
  scheduleInput: () => (scheduleInput)
});
/* import */ var _jupyterlab_apputils__rspack_import_0 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/apputils");
/* import */ var _jupyterlab_ui_components__rspack_import_1 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/ui-components");
/* import */ var react__rspack_import_2 = __webpack_require__("webpack/sharing/consume/default/react");
/* import */ var _api__rspack_import_3 = __webpack_require__("./lib/api.js");
/* import */ var _format__rspack_import_4 = __webpack_require__("./lib/format.js");
/**
 * The forms of the panel, each shown in a JupyterLab dialog: register / edit / duplicate a
 * job, run a job with args, create / edit a schedule (with its live preview). A server error
 * reopens the form with what was typed and the server's message and field.
 */





class FormBody extends _jupyterlab_ui_components__rspack_import_1.ReactWidget {
    _value;
    _render;
    _error;
    constructor(_value, _render, _error) {
        super();
        this._value = _value;
        this._render = _render;
        this._error = _error;
        this.addClass('jp-jobext-form');
    }
    getValue() {
        return this._value;
    }
    render() {
        return (react__rspack_import_2.createElement(react__rspack_import_2.Fragment, null,
            this._error && (react__rspack_import_2.createElement("div", { className: "jp-jobext-error jp-jobext-form-error", role: "alert", "data-field": this._error.field ?? '' },
                this._error.field ? react__rspack_import_2.createElement("b", null,
                    this._error.field,
                    ": ") : null,
                this._error.message)),
            this._render(this._value, v => {
                this._value = v;
                this.update();
            })));
    }
}
/** Show a form until it is cancelled or `submit` succeeds; its result, or null. */
async function formDialog(options) {
    let value = options.initial;
    let error = null;
    for (;;) {
        const body = new FormBody(value, options.render, error);
        const result = await (0,_jupyterlab_apputils__rspack_import_0.showDialog)({
            title: options.title,
            body,
            buttons: [_jupyterlab_apputils__rspack_import_0.Dialog.cancelButton(), _jupyterlab_apputils__rspack_import_0.Dialog.okButton({ label: options.ok })],
            focusNodeSelector: 'input:not([disabled]), textarea, select'
        });
        if (!result.button.accept || result.value === null) {
            return null;
        }
        value = result.value;
        try {
            return await options.submit(value);
        }
        catch (e) {
            error =
                e instanceof _api__rspack_import_3.JobextError
                    ? { message: e.message, field: e.field }
                    : { message: (0,_api__rspack_import_3.errorMessage)(e), field: null };
        }
    }
}
function Field(props) {
    return (react__rspack_import_2.createElement("label", { className: "jp-jobext-field", "data-field": props.name },
        react__rspack_import_2.createElement("span", { className: "jp-jobext-field-label" }, props.label),
        props.children,
        props.hint && react__rspack_import_2.createElement("span", { className: "jp-jobext-hint" }, props.hint)));
}
const TARGET_HINTS = {
    python: 'package.module:callable, importable from the server root',
    notebook: 'path of a notebook under the server root',
    query: 'SQL with :name bind parameters',
    shell: 'a command line'
};
function jobForm(job) {
    return {
        name: job?.name ?? '',
        kind: job?.kind ?? 'python',
        target: job?.target ?? '',
        description: job?.description ?? '',
        connection: job?.connection ?? '',
        default_args: job?.default_args === undefined || job.default_args === null
            ? ''
            : JSON.stringify(job.default_args, null, 1),
        max_concurrent: String(job?.max_concurrent ?? 1),
        queue_when_busy: job?.queue_when_busy ?? false,
        timeout_s: job?.timeout_s ? String(job.timeout_s) : '',
        retries: String(job?.retries ?? 0),
        restartable: job?.restartable ?? true
    };
}
function numberOrNull(field, text) {
    if (!text.trim()) {
        return null;
    }
    const value = Number(text);
    if (!isFinite(value)) {
        throw new _api__rspack_import_3.JobextError(400, 'must be a number', 'invalid', field);
    }
    return value;
}
/** The request body of a job form (throws a JobextError naming a field typed wrong). */
function jobInput(form, editing) {
    let defaultArgs;
    try {
        defaultArgs = (0,_format__rspack_import_4.parseJsonInput)(form.default_args);
    }
    catch (e) {
        throw new _api__rspack_import_3.JobextError(400, e.message, 'invalid', 'default_args');
    }
    const input = {
        target: form.target,
        description: form.description,
        default_args: (defaultArgs ?? null),
        max_concurrent: numberOrNull('max_concurrent', form.max_concurrent) ?? 1,
        queue_when_busy: form.queue_when_busy,
        timeout_s: numberOrNull('timeout_s', form.timeout_s),
        retries: numberOrNull('retries', form.retries) ?? 0,
        restartable: form.restartable
    };
    if (form.kind === 'query') {
        input.connection = form.connection || null;
    }
    if (!editing) {
        input.name = form.name.trim();
        input.kind = form.kind;
    }
    return input;
}
function JobFormView(props) {
    const { value, setValue, editing } = props;
    const set = (changes) => setValue({ ...value, ...changes });
    return (react__rspack_import_2.createElement("div", { className: "jp-jobext-fields" },
        react__rspack_import_2.createElement(Field, { label: "Name", name: "name" },
            react__rspack_import_2.createElement("input", { className: "jp-mod-styled", name: "name", value: value.name, disabled: editing, onChange: e => set({ name: e.target.value }) })),
        react__rspack_import_2.createElement(Field, { label: "Kind", name: "kind" },
            react__rspack_import_2.createElement("select", { className: "jp-mod-styled", name: "kind", value: value.kind, disabled: editing, onChange: e => set({ kind: e.target.value }) },
                react__rspack_import_2.createElement("option", { value: "python" }, "python"),
                react__rspack_import_2.createElement("option", { value: "notebook" }, "notebook"),
                react__rspack_import_2.createElement("option", { value: "query" }, "query"),
                react__rspack_import_2.createElement("option", { value: "shell" }, "shell"))),
        react__rspack_import_2.createElement(Field, { label: "Target", name: "target", hint: TARGET_HINTS[value.kind] },
            react__rspack_import_2.createElement("textarea", { className: "jp-mod-styled", name: "target", rows: value.kind === 'query' ? 5 : 1, value: value.target, onChange: e => set({ target: e.target.value }) })),
        value.kind === 'query' && (react__rspack_import_2.createElement(Field, { label: "Connection", name: "connection" },
            react__rspack_import_2.createElement("select", { className: "jp-mod-styled", name: "connection", value: value.connection, onChange: e => set({ connection: e.target.value }) },
                react__rspack_import_2.createElement("option", { value: "" }, "(choose)"),
                props.connections.map(c => (react__rspack_import_2.createElement("option", { key: c.name, value: c.name },
                    c.name,
                    " (",
                    c.dialect,
                    ")")))))),
        react__rspack_import_2.createElement(Field, { label: "Description", name: "description" },
            react__rspack_import_2.createElement("input", { className: "jp-mod-styled", name: "description", value: value.description, onChange: e => set({ description: e.target.value }) })),
        react__rspack_import_2.createElement(Field, { label: "Default args (JSON)", name: "default_args" },
            react__rspack_import_2.createElement("textarea", { className: "jp-mod-styled", name: "default_args", rows: 3, value: value.default_args, placeholder: '{"rows": 10}', onChange: e => set({ default_args: e.target.value }) })),
        react__rspack_import_2.createElement("div", { className: "jp-jobext-row" },
            react__rspack_import_2.createElement(Field, { label: "At once", name: "max_concurrent" },
                react__rspack_import_2.createElement("input", { className: "jp-mod-styled", name: "max_concurrent", type: "number", min: 1, value: value.max_concurrent, onChange: e => set({ max_concurrent: e.target.value }) })),
            react__rspack_import_2.createElement(Field, { label: "Timeout (s)", name: "timeout_s" },
                react__rspack_import_2.createElement("input", { className: "jp-mod-styled", name: "timeout_s", type: "number", min: 0, value: value.timeout_s, onChange: e => set({ timeout_s: e.target.value }) })),
            react__rspack_import_2.createElement(Field, { label: "Retries", name: "retries" },
                react__rspack_import_2.createElement("input", { className: "jp-mod-styled", name: "retries", type: "number", min: 0, value: value.retries, onChange: e => set({ retries: e.target.value }) }))),
        react__rspack_import_2.createElement("label", { className: "jp-jobext-check" },
            react__rspack_import_2.createElement("input", { type: "checkbox", name: "queue_when_busy", checked: value.queue_when_busy, onChange: e => set({ queue_when_busy: e.target.checked }) }),
            "queue runs while busy"),
        react__rspack_import_2.createElement("label", { className: "jp-jobext-check" },
            react__rspack_import_2.createElement("input", { type: "checkbox", name: "restartable", checked: value.restartable, onChange: e => set({ restartable: e.target.checked }) }),
            "restartable")));
}
/** Register a new job (or a copy of `from`), or edit `editing`. */
async function editJobDialog(api, options) {
    const editing = options.editing;
    let connections = [];
    try {
        connections = (await api.connections()).items;
    }
    catch {
        // an older server: no list to choose from
    }
    return formDialog({
        title: options.title ?? (editing ? `Edit job ${editing.name}` : 'New job'),
        initial: jobForm(editing ?? options.from),
        ok: editing ? 'Save' : 'Register',
        render: (value, setValue) => (react__rspack_import_2.createElement(JobFormView, { value: value, setValue: setValue, editing: !!editing, connections: connections })),
        submit: form => editing ? api.updateJob(editing.name, jobInput(form, true)) : api.createJob(jobInput(form, false))
    });
}
/** The form of a job's args: one field per key of an object `default_args`. */
function runForm(job) {
    const fields = {};
    const defaults = job.default_args;
    if (defaults && typeof defaults === 'object' && !Array.isArray(defaults)) {
        for (const [key, value] of Object.entries(defaults)) {
            fields[key] = typeof value === 'string' ? value : JSON.stringify(value);
        }
    }
    return { fields, json: '' };
}
/**
 * The args of a run form: each field whose text differs from the default, typed as the
 * default is (a number stays a number), then the JSON object over them. Undefined: no args
 * (the job's defaults as they are).
 */
function runArgs(job, form) {
    const defaults = job.default_args;
    const args = {};
    if (defaults && typeof defaults === 'object' && !Array.isArray(defaults)) {
        for (const [key, text] of Object.entries(form.fields)) {
            const original = defaults[key];
            const originalText = typeof original === 'string' ? original : JSON.stringify(original);
            if (text === originalText) {
                continue;
            }
            if (typeof original === 'string') {
                args[key] = text;
            }
            else {
                try {
                    args[key] = JSON.parse(text);
                }
                catch {
                    throw new _api__rspack_import_3.JobextError(400, `not valid JSON: ${text}`, 'invalid', key);
                }
            }
        }
    }
    let extra;
    if (job.kind === 'shell' && form.json.trim() && !/^[[{"]/.test(form.json.trim())) {
        extra = form.json.trim();
    }
    else {
        try {
            extra = (0,_format__rspack_import_4.parseJsonInput)(form.json);
        }
        catch (e) {
            throw new _api__rspack_import_3.JobextError(400, e.message, 'invalid', 'args');
        }
    }
    if (extra !== undefined && (typeof extra !== 'object' || extra === null || Array.isArray(extra))) {
        return Object.keys(args).length ? { ...args } : extra;
    }
    const merged = { ...args, ...(extra ?? {}) };
    return Object.keys(merged).length ? merged : undefined;
}
function RunFormView(props) {
    const { job, value, setValue } = props;
    return (react__rspack_import_2.createElement("div", { className: "jp-jobext-fields" },
        react__rspack_import_2.createElement("div", { className: "jp-jobext-hint" },
            job.kind,
            " \u00B7 ",
            job.target),
        Object.entries(value.fields).map(([key, text]) => (react__rspack_import_2.createElement(Field, { key: key, label: key, name: key },
            react__rspack_import_2.createElement("input", { className: "jp-mod-styled", name: `arg-${key}`, value: text, onChange: e => setValue({ ...value, fields: { ...value.fields, [key]: e.target.value } }) })))),
        react__rspack_import_2.createElement(Field, { label: job.kind === 'shell' ? 'Arguments' : 'Args (JSON, over the fields above)', name: "args" },
            react__rspack_import_2.createElement("textarea", { className: "jp-mod-styled", name: "args", rows: 3, value: value.json, placeholder: job.kind === 'shell' ? '--verbose input.txt' : '{"key": "value"}', onChange: e => setValue({ ...value, json: e.target.value }) }))));
}
/** Ask for a job's args and start a run; the run, or null when cancelled. */
function runJobDialog(api, job) {
    return formDialog({
        title: `Run ${job.name}`,
        initial: runForm(job),
        ok: 'Run',
        render: (value, setValue) => react__rspack_import_2.createElement(RunFormView, { job: job, value: value, setValue: setValue }),
        submit: form => api.enqueue(job.name, runArgs(job, form))
    });
}
function scheduleForm(schedule) {
    return {
        job: schedule?.job ?? '',
        cron: schedule?.cron ?? '0 6 * * 1-5',
        timezone: schedule?.timezone ?? (0,_format__rspack_import_4.browserTimeZone)(),
        args: schedule?.args === undefined || schedule.args === null ? '' : JSON.stringify(schedule.args),
        misfire: schedule?.misfire ?? 'skip',
        overlap: schedule?.overlap ?? 'forbid',
        description: schedule?.description ?? ''
    };
}
function scheduleInput(form, editing) {
    let args;
    try {
        args = (0,_format__rspack_import_4.parseJsonInput)(form.args);
    }
    catch (e) {
        throw new _api__rspack_import_3.JobextError(400, e.message, 'invalid', 'args');
    }
    const input = {
        cron: form.cron.trim(),
        timezone: form.timezone,
        args: (args ?? null),
        misfire: form.misfire,
        overlap: form.overlap,
        description: form.description
    };
    if (!editing) {
        input.job = form.job;
    }
    return input;
}
/** The next fire times of a cron expression, asked of the server as it is typed. */
function SchedulePreview(props) {
    const { api, cron, timezone } = props;
    const [preview, setPreview] = react__rspack_import_2.useState(null);
    const [error, setError] = react__rspack_import_2.useState(null);
    react__rspack_import_2.useEffect(() => {
        let current = true;
        const timer = setTimeout(() => {
            if (!cron.trim()) {
                return;
            }
            api
                .previewSchedule(cron.trim(), timezone, 5)
                .then(p => current && (setPreview(p), setError(null)))
                .catch(e => current && (setPreview(null), setError((0,_api__rspack_import_3.errorMessage)(e))));
        }, 300);
        return () => {
            current = false;
            clearTimeout(timer);
        };
    }, [cron, timezone]);
    const browser = (0,_format__rspack_import_4.browserTimeZone)();
    if (error) {
        return react__rspack_import_2.createElement("div", { className: "jp-jobext-error jp-jobext-preview-error" }, error);
    }
    if (!preview) {
        return react__rspack_import_2.createElement("div", { className: "jp-jobext-preview jp-jobext-hint" }, "\u2026");
    }
    return (react__rspack_import_2.createElement("table", { className: "jp-jobext-preview" },
        react__rspack_import_2.createElement("thead", null,
            react__rspack_import_2.createElement("tr", null,
                react__rspack_import_2.createElement("th", null,
                    "in ",
                    preview.timezone),
                browser !== preview.timezone && react__rspack_import_2.createElement("th", null,
                    "in your zone (",
                    browser,
                    ")"))),
        react__rspack_import_2.createElement("tbody", null, preview.fire_times.map(t => (react__rspack_import_2.createElement("tr", { key: t, className: "jp-jobext-fire-time" },
            react__rspack_import_2.createElement("td", null,
                (0,_format__rspack_import_4.formatTime)(t, preview.timezone),
                " ",
                (0,_format__rspack_import_4.zoneAbbreviation)(t, preview.timezone)),
            browser !== preview.timezone && (react__rspack_import_2.createElement("td", null,
                (0,_format__rspack_import_4.formatTime)(t, browser),
                " ",
                (0,_format__rspack_import_4.zoneAbbreviation)(t, browser)))))))));
}
function ScheduleFormView(props) {
    const { value, setValue } = props;
    const set = (changes) => setValue({ ...value, ...changes });
    const zones = react__rspack_import_2.useMemo(() => (0,_format__rspack_import_4.timeZones)(), []);
    return (react__rspack_import_2.createElement("div", { className: "jp-jobext-fields" },
        react__rspack_import_2.createElement(Field, { label: "Job", name: "job" },
            react__rspack_import_2.createElement("select", { className: "jp-mod-styled", name: "job", value: value.job, disabled: props.editing, onChange: e => set({ job: e.target.value }) },
                react__rspack_import_2.createElement("option", { value: "" }, "(choose)"),
                props.jobs.map(j => (react__rspack_import_2.createElement("option", { key: j, value: j }, j))))),
        react__rspack_import_2.createElement(Field, { label: "Cron", name: "cron", hint: "5 fields, @daily, or Quartz with seconds" },
            react__rspack_import_2.createElement("input", { className: "jp-mod-styled", name: "cron", value: value.cron, onChange: e => set({ cron: e.target.value }) })),
        react__rspack_import_2.createElement(Field, { label: "Time zone", name: "timezone" },
            react__rspack_import_2.createElement("input", { className: "jp-mod-styled", name: "timezone", list: "jp-jobext-zones", value: value.timezone, onChange: e => set({ timezone: e.target.value }) }),
            react__rspack_import_2.createElement("datalist", { id: "jp-jobext-zones" }, zones.map(z => (react__rspack_import_2.createElement("option", { key: z, value: z }))))),
        react__rspack_import_2.createElement("div", { className: "jp-jobext-field" },
            react__rspack_import_2.createElement("span", { className: "jp-jobext-field-label" }, "Next fire times"),
            react__rspack_import_2.createElement(SchedulePreview, { api: props.api, cron: value.cron, timezone: value.timezone })),
        react__rspack_import_2.createElement(Field, { label: "Args (JSON)", name: "args" },
            react__rspack_import_2.createElement("input", { className: "jp-mod-styled", name: "args", value: value.args, onChange: e => set({ args: e.target.value }) })),
        react__rspack_import_2.createElement("div", { className: "jp-jobext-row" },
            react__rspack_import_2.createElement(Field, { label: "After downtime", name: "misfire" },
                react__rspack_import_2.createElement("select", { className: "jp-mod-styled", name: "misfire", value: value.misfire, onChange: e => set({ misfire: e.target.value }) },
                    react__rspack_import_2.createElement("option", { value: "skip" }, "skip missed fires"),
                    react__rspack_import_2.createElement("option", { value: "once" }, "run once"),
                    react__rspack_import_2.createElement("option", { value: "all" }, "run every missed fire"))),
            react__rspack_import_2.createElement(Field, { label: "While still running", name: "overlap" },
                react__rspack_import_2.createElement("select", { className: "jp-mod-styled", name: "overlap", value: value.overlap, onChange: e => set({ overlap: e.target.value }) },
                    react__rspack_import_2.createElement("option", { value: "forbid" }, "skip the fire"),
                    react__rspack_import_2.createElement("option", { value: "allow" }, "run anyway"),
                    react__rspack_import_2.createElement("option", { value: "replace" }, "stop the old run")))),
        react__rspack_import_2.createElement(Field, { label: "Description", name: "description" },
            react__rspack_import_2.createElement("input", { className: "jp-mod-styled", name: "description", value: value.description, onChange: e => set({ description: e.target.value }) }))));
}
/** Create a schedule (for `job`, if given) or edit `editing`. */
async function scheduleDialog(api, options) {
    const editing = options.editing;
    let jobs = [];
    try {
        jobs = (await api.listJobs({ per_page: 1000, sort: 'name' })).items.map(j => j.name);
    }
    catch {
        jobs = options.job ? [options.job] : [];
    }
    const initial = scheduleForm(editing ?? { job: options.job });
    return formDialog({
        title: editing ? `Edit schedule ${editing.id} of ${editing.job}` : 'New schedule',
        initial,
        ok: editing ? 'Save' : 'Create',
        render: (value, setValue) => (react__rspack_import_2.createElement(ScheduleFormView, { api: api, jobs: jobs, value: value, setValue: setValue, editing: !!editing })),
        submit: form => editing
            ? api.updateSchedule(editing.id, scheduleInput(form, true))
            : api.createSchedule(scheduleInput(form, false))
    });
}
/** Ask before something goes; true when confirmed. */
async function confirm(title, message, ok = 'Delete') {
    const result = await (0,_jupyterlab_apputils__rspack_import_0.showDialog)({
        title,
        body: message,
        buttons: [_jupyterlab_apputils__rspack_import_0.Dialog.cancelButton(), _jupyterlab_apputils__rspack_import_0.Dialog.warnButton({ label: ok })]
    });
    return result.button.accept;
}


},
"./lib/format.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  browserTimeZone: () => (browserTimeZone),
  formatBytes: () => (formatBytes),
  formatDuration: () => (formatDuration),
  formatTime: () => (formatTime),
  parseCsv: () => (parseCsv),
  parseJsonInput: () => (parseJsonInput),
  tail: () => (tail),
  timeZones: () => (timeZones),
  zoneAbbreviation: () => (zoneAbbreviation)
});
/** How times, durations, sizes and CSV text are shown. Pure functions, unit tested. */
/** `1.2 s`, `3 min 5 s`, `2 h 4 min`; '' for null. */
function formatDuration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) {
        return '';
    }
    if (seconds < 10) {
        return `${seconds.toFixed(1)} s`;
    }
    if (seconds < 60) {
        return `${Math.round(seconds)} s`;
    }
    const total = Math.round(seconds);
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    if (h > 0) {
        return `${h} h ${m} min`;
    }
    return `${m} min ${s} s`;
}
/** A time in a zone (the browser's when none), as `2026-11-30 14:05:09`. */
function formatTime(iso, timeZone) {
    if (!iso) {
        return '';
    }
    const date = new Date(iso);
    if (isNaN(date.getTime())) {
        return iso;
    }
    const parts = new Intl.DateTimeFormat('en-CA', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23'
    }).formatToParts(date);
    const get = (type) => parts.find(p => p.type === type)?.value ?? '';
    return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`;
}
/** The zone's short name at that instant (`CET`, `GMT+1`). */
function zoneAbbreviation(iso, timeZone) {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' }).formatToParts(new Date(iso));
    return parts.find(p => p.type === 'timeZoneName')?.value ?? '';
}
/** The browser's IANA time zone. */
function browserTimeZone() {
    try {
        return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    }
    catch {
        return 'UTC';
    }
}
/** The IANA zones the browser knows (for the schedule editor's picker). */
function timeZones() {
    const withValues = Intl;
    const zones = withValues.supportedValuesOf?.('timeZone') ?? [];
    return zones.includes('UTC') ? zones : ['UTC', ...zones];
}
/** `12 B`, `3.4 kB`, `1.2 MB`. */
function formatBytes(size) {
    if (size === null || size === undefined) {
        return '';
    }
    const units = ['B', 'kB', 'MB', 'GB', 'TB'];
    let value = size;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
        value /= 1000;
        unit++;
    }
    return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
/** The last `lines` lines of a text (a traceback's end). */
function tail(text, lines) {
    const all = text.replace(/\s+$/, '').split('\n');
    return all.slice(Math.max(0, all.length - lines)).join('\n');
}
/**
 * The first `maxRows` rows of CSV text (RFC 4180: quoted fields, doubled quotes, line breaks
 * inside quotes). A last row cut off by a partial read is dropped.
 */
function parseCsv(text, maxRows, complete = false) {
    const rows = [];
    let row = [];
    let field = '';
    let quoted = false;
    let i = 0;
    while (i < text.length && rows.length < maxRows) {
        const c = text[i];
        if (quoted) {
            if (c === '"') {
                if (text[i + 1] === '"') {
                    field += '"';
                    i += 2;
                    continue;
                }
                quoted = false;
            }
            else {
                field += c;
            }
            i++;
            continue;
        }
        if (c === '"') {
            quoted = true;
        }
        else if (c === ',') {
            row.push(field);
            field = '';
        }
        else if (c === '\n' || c === '\r') {
            row.push(field);
            rows.push(row);
            row = [];
            field = '';
            if (c === '\r' && text[i + 1] === '\n') {
                i++;
            }
        }
        else {
            field += c;
        }
        i++;
    }
    if (complete && rows.length < maxRows && (field !== '' || row.length > 0)) {
        row.push(field);
        rows.push(row);
    }
    return rows;
}
/** Parse a JSON text typed by a user; '' is undefined. Throws with a short reason. */
function parseJsonInput(text) {
    if (!text.trim()) {
        return undefined;
    }
    try {
        return JSON.parse(text);
    }
    catch (error) {
        throw new Error(`not valid JSON: ${error.message}`);
    }
}


},
"./lib/index.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  CommandIDs: () => (CommandIDs),
  "default": () => (__rspack_default_export),
  jobForFile: () => (jobForFile)
});
/* import */ var _jupyterlab_application__rspack_import_0 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/application");
/* import */ var _jupyterlab_apputils__rspack_import_1 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/apputils");
/* import */ var _jupyterlab_coreutils__rspack_import_2 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/coreutils");
/* import */ var _jupyterlab_filebrowser__rspack_import_3 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/filebrowser");
/* import */ var _jupyterlab_launcher__rspack_import_4 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/launcher");
/* import */ var _jupyterlab_settingregistry__rspack_import_5 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/settingregistry");
/* import */ var _api__rspack_import_7 = __webpack_require__("./lib/api.js");
/* import */ var _components_JobsSection__rspack_import_11 = __webpack_require__("./lib/components/JobsSection.js");
/* import */ var _components_RunDetail__rspack_import_10 = __webpack_require__("./lib/components/RunDetail.js");
/* import */ var _dialogs__rspack_import_6 = __webpack_require__("./lib/dialogs.js");
/* import */ var _model__rspack_import_8 = __webpack_require__("./lib/model.js");
/* import */ var _widgets__rspack_import_9 = __webpack_require__("./lib/widgets.js");
/**
 * jobext's JupyterLab plugin: the "Jobs" side panel, run details in the main area, commands
 * (palette, launcher, file browser context menu, notebook toolbar) and notifications when a
 * run this tab started ends.
 */












const PLUGIN_ID = 'jobext:plugin';
var CommandIDs;
(function (CommandIDs) {
    CommandIDs.openPanel = 'jobext:open-panel';
    CommandIDs.openRun = 'jobext:open-run';
    CommandIDs.newJob = 'jobext:new-job';
    CommandIDs.newSchedule = 'jobext:new-schedule';
    CommandIDs.runFile = 'jobext:run-file';
    CommandIDs.scheduleFile = 'jobext:schedule-file';
    CommandIDs.runCurrent = 'jobext:run-current';
    CommandIDs.refresh = 'jobext:refresh';
})(CommandIDs || (CommandIDs = {}));
/** The job a file would be run as: a notebook job for .ipynb, a script for .py. */
function jobForFile(path) {
    const base = _jupyterlab_coreutils__rspack_import_2.PathExt.basename(path).replace(/\.(ipynb|py)$/, '');
    const name = base.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'job';
    if (path.endsWith('.ipynb')) {
        return { name, kind: 'notebook', target: path };
    }
    return { name, kind: 'shell', target: `python3 ${JSON.stringify(path)}` };
}
/** The registered job for a file, or (after the user registers it) a new one. */
async function ensureJob(api, path) {
    const wanted = jobForFile(path);
    try {
        const found = await api.listJobs({ search: path, per_page: 100 });
        const match = found.items.find(j => j.kind === wanted.kind && j.target === wanted.target);
        if (match) {
            return match;
        }
    }
    catch {
        // fall through: offer to register it
    }
    return (0,_dialogs__rspack_import_6.editJobDialog)(api, { from: wanted, title: `Register ${_jupyterlab_coreutils__rspack_import_2.PathExt.basename(path)} as a job` });
}
const plugin = {
    id: PLUGIN_ID,
    description: 'The jobext side panel: jobs, runs, schedules, batches and workers, live.',
    autoStart: true,
    optional: [_jupyterlab_application__rspack_import_0.ILayoutRestorer, _jupyterlab_apputils__rspack_import_1.ICommandPalette, _jupyterlab_settingregistry__rspack_import_5.ISettingRegistry, _jupyterlab_filebrowser__rspack_import_3.IDefaultFileBrowser, _jupyterlab_launcher__rspack_import_4.ILauncher],
    activate: (app, restorer, palette, settingRegistry, fileBrowser, launcher) => {
        const api = new _api__rspack_import_7.JobextAPI(app.serviceManager.serverSettings);
        const model = new _model__rspack_import_8.JobextModel(api);
        const tracker = new _jupyterlab_apputils__rspack_import_1.WidgetTracker({ namespace: 'jobext-run' });
        const { commands, shell } = app;
        let notifyOn = new Set(['succeeded', 'failed', 'stopped']);
        const ctx = {
            api,
            model,
            openRun: id => void commands.execute(CommandIDs.openRun, { id })
        };
        const openNotebook = async (run) => {
            const download = await api.downloadResult(run.id);
            const content = JSON.parse(await download.blob.text());
            const dir = 'jobext-results';
            const contents = app.serviceManager.contents;
            try {
                await contents.get(dir, { content: false });
            }
            catch {
                await contents.save(dir, { type: 'directory' });
            }
            const path = `${dir}/${download.filename}`;
            await contents.save(path, { type: 'notebook', format: 'json', content });
            await commands.execute('docmanager:open', { path });
        };
        const panel = new _widgets__rspack_import_9.JobsPanel(ctx);
        shell.add(panel, 'left', { rank: 750 });
        if (restorer) {
            restorer.add(panel, 'jobext-panel');
            void restorer.restore(tracker, {
                command: CommandIDs.openRun,
                args: widget => ({ id: Number(widget.id.replace('jp-jobext-run-', '')) }),
                name: widget => widget.id
            });
        }
        model.runEnded.connect((_, run) => {
            if (!notifyOn.has(run.status)) {
                return;
            }
            const type = run.status === 'succeeded' ? 'success' : run.status === 'failed' ? 'error' : 'warning';
            const actions = [{ label: 'Open log', callback: () => ctx.openRun(run.id) }];
            if (run.result) {
                actions.push({
                    label: 'Download',
                    callback: () => void api
                        .downloadResult(run.id)
                        .then(_components_RunDetail__rspack_import_10.saveDownload)
                        .catch(e => _jupyterlab_apputils__rspack_import_1.Notification.error((0,_api__rspack_import_7.errorMessage)(e)))
                });
            }
            const why = run.status === 'failed' && run.error ? `: ${run.error.split('\n')[0]}` : '';
            _jupyterlab_apputils__rspack_import_1.Notification.emit(`${run.job} #${run.id} ${run.status}${why}`, type, {
                autoClose: run.status === 'succeeded' ? 6000 : false,
                actions
            });
        });
        commands.addCommand(CommandIDs.openPanel, {
            label: 'Open the Jobs panel',
            caption: 'Jobs, runs, schedules, batches and workers',
            icon: _widgets__rspack_import_9.jobsIcon,
            execute: () => shell.activateById(panel.id)
        });
        commands.addCommand(CommandIDs.openRun, {
            label: args => (args.id ? `Open run #${args.id}` : 'Open a run…'),
            execute: async (args) => {
                let id = Number(args.id);
                if (!id) {
                    const { InputDialog } = await Promise.resolve(/* import() */).then(() => __webpack_require__.t("webpack/sharing/consume/default/@jupyterlab/apputils", 23));
                    const answer = await InputDialog.getNumber({ title: 'Open run', value: 1 });
                    if (!answer.button.accept || !answer.value) {
                        return;
                    }
                    id = answer.value;
                }
                const existing = tracker.find(w => w.id === `jp-jobext-run-${id}`);
                if (existing) {
                    shell.activateById(existing.id);
                    return existing;
                }
                const widget = (0,_widgets__rspack_import_9.createRunWidget)(ctx, id, openNotebook);
                void tracker.add(widget);
                shell.add(widget, 'main');
                shell.activateById(widget.id);
                return widget;
            }
        });
        commands.addCommand(CommandIDs.newJob, {
            label: 'New job…',
            caption: 'Register a job (Python callable, notebook, saved query or shell command)',
            icon: args => (args.isLauncher ? _widgets__rspack_import_9.jobsIcon : undefined),
            execute: async () => {
                shell.activateById(panel.id);
                if (await (0,_dialogs__rspack_import_6.editJobDialog)(api, {})) {
                    await model.refresh(['jobs']);
                }
            }
        });
        commands.addCommand(CommandIDs.newSchedule, {
            label: 'New schedule…',
            execute: async () => {
                if (await (0,_dialogs__rspack_import_6.scheduleDialog)(api, {})) {
                    await model.refresh(['schedules']);
                }
            }
        });
        commands.addCommand(CommandIDs.refresh, {
            label: 'Refresh the Jobs panel',
            execute: () => model.refresh()
        });
        const selectedPath = (args) => {
            if (typeof args.path === 'string' && args.path) {
                return args.path;
            }
            const item = fileBrowser?.selectedItems().next();
            return item && !item.done ? item.value.path : null;
        };
        const runPath = async (path) => {
            const job = await ensureJob(api, path);
            if (job) {
                await model.refresh(['jobs']);
                await (0,_components_JobsSection__rspack_import_11.runJob)(ctx, job);
            }
        };
        commands.addCommand(CommandIDs.runFile, {
            label: 'Run as job…',
            caption: 'Run this file as a jobext job (registering it first if needed)',
            icon: _widgets__rspack_import_9.jobsIcon,
            execute: async (args) => {
                const path = selectedPath(args);
                if (path) {
                    await runPath(path);
                }
            }
        });
        commands.addCommand(CommandIDs.scheduleFile, {
            label: 'Schedule…',
            caption: 'Run this file on a cron schedule',
            execute: async (args) => {
                const path = selectedPath(args);
                if (!path) {
                    return;
                }
                const job = await ensureJob(api, path);
                if (job && (await (0,_dialogs__rspack_import_6.scheduleDialog)(api, { job: job.name }))) {
                    await model.refresh(['jobs', 'schedules']);
                }
            }
        });
        commands.addCommand(CommandIDs.runCurrent, {
            label: 'Run as job…',
            caption: 'Run this notebook as a jobext job',
            icon: _widgets__rspack_import_9.jobsIcon,
            execute: async () => {
                const current = shell.currentWidget;
                const path = current?.context?.path;
                if (path) {
                    await runPath(path);
                }
            }
        });
        if (palette) {
            const category = 'Jobs';
            for (const command of [
                CommandIDs.openPanel,
                CommandIDs.newJob,
                CommandIDs.newSchedule,
                CommandIDs.openRun,
                CommandIDs.refresh
            ]) {
                palette.addItem({ command, category });
            }
        }
        if (launcher) {
            launcher.add({ command: CommandIDs.newJob, category: 'Other', rank: 10 });
        }
        if (settingRegistry) {
            void settingRegistry.load(PLUGIN_ID).then(settings => {
                const apply = () => {
                    model.setRefreshInterval(settings.get('refreshInterval').composite ?? 5);
                    notifyOn = new Set(settings.get('notifyOn').composite ?? []);
                };
                apply();
                settings.changed.connect(apply);
            }).catch(() => undefined);
        }
        void model.start().catch(e => {
            model.error = (0,_api__rspack_import_7.errorMessage)(e);
        });
    }
};
/* export default */ const __rspack_default_export = (plugin);


},
"./lib/model.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  JobextModel: () => (JobextModel),
  STATUS_GROUPS: () => (STATUS_GROUPS),
  filterInstant: () => (filterInstant),
  finishedRuns: () => (finishedRuns),
  groupByJob: () => (groupByJob),
  mergeRun: () => (mergeRun),
  runMatches: () => (runMatches),
  statusesOf: () => (statusesOf),
  upsert: () => (upsert)
});
/* import */ var _lumino_polling__rspack_import_0 = __webpack_require__("webpack/sharing/consume/default/@lumino/polling");
/* import */ var _lumino_signaling__rspack_import_1 = __webpack_require__("webpack/sharing/consume/default/@lumino/signaling");
/* import */ var _actions__rspack_import_3 = __webpack_require__("./lib/actions.js");
/* import */ var _api__rspack_import_4 = __webpack_require__("./lib/api.js");
/* import */ var _sse__rspack_import_5 = __webpack_require__("./lib/sse.js");
/* import */ var _types__rspack_import_2 = __webpack_require__("./lib/types.js");
/**
 * The panel's state: the lists of every section, kept live by ONE server-wide event stream
 * per tab (`GET /events`), with polling (paused while the panel is hidden) only where the
 * server has no such stream.
 */






// ---------------------------------------------------------------------------- pure state logic
/** Status group names the server accepts in filters (OpenSpecimen's spelling). */
const STATUS_GROUPS = {
    IN_PROGRESS: ['queued', 'running', 'pausing', 'paused', 'stopping'],
    SUCCEEDED: ['succeeded'],
    FAILED: ['failed'],
    STOPPED: ['stopped'],
    FINISHED: ['succeeded', 'failed', 'stopped']
};
/** The statuses a `status` filter value names ('' or undefined: all). */
function statusesOf(filter) {
    if (!filter) {
        return new Set(_types__rspack_import_2.RUN_STATUSES);
    }
    const wanted = new Set();
    for (const part of filter.split(',').map(p => p.trim())) {
        for (const status of STATUS_GROUPS[part] ?? [part.toLowerCase()]) {
            wanted.add(status);
        }
    }
    return wanted;
}
/** The instant a `from`/`to` filter value names (`2026-11-30`, `20261130T061500`, ISO). */
function filterInstant(value) {
    const compact = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2}))?$/.exec(value);
    if (compact) {
        const [, y, mo, d, h = '00', mi = '00', s = '00'] = compact;
        return Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
    }
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
        return Date.parse(`${value}T00:00:00Z`);
    }
    return Date.parse(value);
}
/** True when a run belongs in a list shown with this filter (the server's rules, for runs
 * that arrive by event rather than by a list request). */
function runMatches(filter, run) {
    if (filter.job && run.job !== filter.job) {
        return false;
    }
    if (filter.status && !statusesOf(filter.status).has(run.status)) {
        return false;
    }
    if (filter.batch !== undefined && run.batch_id !== filter.batch) {
        return false;
    }
    if (filter.schedule !== undefined && run.schedule_id !== filter.schedule) {
        return false;
    }
    const created = Date.parse(run.created_at);
    if (filter.from && created < filterInstant(filter.from)) {
        return false;
    }
    if (filter.to && created > filterInstant(filter.to)) {
        return false;
    }
    if (filter.search && !run.job.toLowerCase().includes(filter.search.toLowerCase())) {
        return false;
    }
    return true;
}
/** A list with `item` put in (replacing the one with the same key, or added at the front). */
function upsert(items, item, key, options = {}) {
    const k = key(item);
    const index = items.findIndex(t => key(t) === k);
    if (index !== -1) {
        const copy = items.slice();
        copy[index] = item;
        return { items: copy, added: false };
    }
    if (options.add === false) {
        return { items: items.slice(), added: false };
    }
    const copy = [item, ...items];
    if (options.limit !== undefined && copy.length > options.limit) {
        copy.length = options.limit;
    }
    return { items: copy, added: true };
}
/** Runs under their job, jobs in the order of their newest run. */
function groupByJob(runs) {
    const groups = new Map();
    for (const run of runs) {
        const group = groups.get(run.job);
        if (group) {
            group.push(run);
        }
        else {
            groups.set(run.job, [run]);
        }
    }
    return [...groups.entries()];
}
/** Merge a run event's data into a run we hold: a full run replaces it; a progress event
 * (`{progress, message, records_written, steps}`) updates those fields. */
function mergeRun(run, data) {
    return { ...run, ...data };
}
/** The run ids of a page that are finished (what "clear finished" removes). */
function finishedRuns(runs) {
    return runs.filter(r => _types__rspack_import_2.FINAL_STATUSES.has(r.status));
}
function emptyList() {
    return { items: [], total: 0, available: true, error: null, loaded: false };
}
class JobextModel {
    api;
    constructor(api, options = {}) {
        this.api = api;
        this._interval = (options.refreshInterval ?? 5) * 1000;
    }
    /** Emitted whenever anything shown changes. */
    get changed() {
        return this._changed;
    }
    /** Emitted with a run whenever news of it arrives (event or poll). */
    get runUpdated() {
        return this._runUpdated;
    }
    /** Emitted once when a run that this tab started reaches a final status. */
    get runEnded() {
        return this._runEnded;
    }
    actions = _actions__rspack_import_3.FALLBACK_ACTIONS;
    live = 'connecting';
    jobs = emptyList();
    runs = emptyList();
    schedules = emptyList();
    batches = emptyList();
    workers = emptyList();
    jobSearch = '';
    runFilter = {};
    runsGrouped = false;
    perPage = 50;
    /** A refresh or stream error to show at the top of the panel. */
    error = null;
    get isDisposed() {
        return this._disposed;
    }
    /** Read the actions table, fill every list and start following the server. */
    async start() {
        try {
            this.actions = (0,_actions__rspack_import_3.actionsFromOpenAPI)(await this.api.openapi());
        }
        catch {
            this.actions = _actions__rspack_import_3.FALLBACK_ACTIONS;
        }
        await this.refresh();
        void this._follow();
    }
    dispose() {
        if (this._disposed) {
            return;
        }
        this._disposed = true;
        this._abort.abort();
        this._poll?.dispose();
        _lumino_signaling__rspack_import_1.Signal.clearData(this);
    }
    /** Whether the panel is shown: polling stops while it is not. */
    setVisible(visible) {
        this._visible = visible;
        if (visible && this._poll) {
            void this._poll.refresh();
        }
    }
    setRefreshInterval(seconds) {
        this._interval = Math.max(1, seconds) * 1000;
        if (this._poll) {
            this._poll.frequency = { ...this._poll.frequency, interval: this._interval };
        }
    }
    /** Remember a run this tab started: its end is notified. */
    watch(run) {
        this._mine.set(run.id, run.status);
        this._applyRun(run);
    }
    isMine(id) {
        return this._mine.has(id);
    }
    async refresh(sections = ['jobs', 'runs', 'schedules', 'batches', 'workers']) {
        await Promise.all(sections.map(s => this._load(s)));
        this._changed.emit();
    }
    setJobSearch(search) {
        this.jobSearch = search;
        return this.refresh(['jobs']);
    }
    setRunFilter(filter) {
        this.runFilter = filter;
        return this.refresh(['runs']);
    }
    setGrouped(grouped) {
        this.runsGrouped = grouped;
        this._changed.emit();
    }
    /** Apply one event of the server-wide stream. */
    applyEvent(event) {
        let data;
        try {
            data = JSON.parse(event.data);
        }
        catch {
            return;
        }
        if (!data || typeof data !== 'object') {
            return;
        }
        switch (event.event) {
            case 'run':
                this._applyRun(data);
                break;
            case 'batch':
                this.batches = this._upsertList(this.batches, data, b => b.id);
                break;
            case 'schedule':
                this.schedules = this._upsertList(this.schedules, data, s => s.id);
                break;
            case 'worker':
                this.workers = this._upsertList(this.workers, data, w => w.id);
                break;
            case 'job':
                this.jobs = this._upsertList(this.jobs, data, j => j.name, false);
                break;
            case 'removed': {
                // {kind, id}: something went away.
                const removed = data;
                this._remove(removed.kind ?? '', removed.id);
                break;
            }
            default:
                return;
        }
        this._changed.emit();
    }
    /** A run just changed here (an action's answer): show it at once. */
    applyRun(run) {
        this._applyRun(run);
        this._changed.emit();
    }
    _remove(kind, id) {
        const without = (list, key) => {
            const items = list.items.filter(t => key(t) !== id);
            return { ...list, items, total: list.total - (list.items.length - items.length) };
        };
        if (kind === 'run') {
            this.runs = without(this.runs, r => r.id);
        }
        else if (kind === 'schedule') {
            this.schedules = without(this.schedules, s => s.id);
        }
        else if (kind === 'batch') {
            this.batches = without(this.batches, b => b.id);
        }
        else if (kind === 'job') {
            this.jobs = without(this.jobs, j => j.name);
        }
    }
    _upsertList(list, item, key, add = true) {
        const { items, added } = upsert(list.items, item, key, { add, limit: this.perPage });
        return { ...list, items, total: list.total + (added ? 1 : 0) };
    }
    _applyRun(run) {
        const matches = runMatches(this.runFilter, run);
        const present = this.runs.items.some(r => r.id === run.id);
        if (matches || present) {
            // A run that no longer matches the filter stays until the next refresh: rows do not
            // jump away under the user's pointer.
            this.runs = this._upsertList(this.runs, run, r => r.id, matches);
        }
        this._runUpdated.emit(run);
        const before = this._mine.get(run.id);
        if (before !== undefined && !_types__rspack_import_2.FINAL_STATUSES.has(before) && _types__rspack_import_2.FINAL_STATUSES.has(run.status)) {
            this._mine.set(run.id, run.status);
            this._runEnded.emit(run);
        }
        else if (before !== undefined) {
            this._mine.set(run.id, run.status);
        }
    }
    async _load(section) {
        const page = { per_page: this.perPage };
        try {
            switch (section) {
                case 'jobs':
                    this.jobs = this._loaded(await this.api.listJobs({ ...page, sort: 'name', search: this.jobSearch }));
                    break;
                case 'runs':
                    this.runs = this._loaded(await this.api.listRuns(this.runFilter, page));
                    break;
                case 'schedules':
                    this.schedules = this._loaded(await this.api.listSchedules(page));
                    break;
                case 'batches':
                    this.batches = this._loaded(await this.api.listBatches(page));
                    break;
                case 'workers':
                    this.workers = this._loaded(await this.api.listWorkers(page));
                    break;
            }
        }
        catch (error) {
            const notAvailable = error instanceof _api__rspack_import_4.JobextError && error.notAvailable;
            const state = {
                ...this[section],
                loaded: true,
                available: !notAvailable,
                error: notAvailable ? null : (0,_api__rspack_import_4.errorMessage)(error)
            };
            this[section] = state;
        }
    }
    _loaded(page) {
        return { items: page.items, total: page.total, available: true, error: null, loaded: true };
    }
    /** Follow `/events`; fall back to polling where the server has none. */
    async _follow() {
        let lastEventId = '';
        let failures = 0;
        while (!this._disposed) {
            try {
                lastEventId = await this.api.stream('events', {
                    onOpen: () => {
                        const reconnected = failures > 0;
                        failures = 0;
                        this.live = 'events';
                        this.error = null;
                        this._poll?.dispose();
                        this._poll = null;
                        this._changed.emit();
                        if (reconnected) {
                            void this.refresh();
                        }
                    },
                    onEvent: event => this.applyEvent(event)
                }, { lastEventId, signal: this._abort.signal });
            }
            catch (error) {
                if (this._disposed) {
                    return;
                }
                if (error instanceof _sse__rspack_import_5.StreamRefused && (error.status === 404 || error.status === 405)) {
                    this._startPolling();
                    return;
                }
                failures++;
                this.error = `live updates interrupted: ${(0,_api__rspack_import_4.errorMessage)(error)}; retrying`;
                this._startPolling();
            }
            // The server ended the stream (a restart) or it broke: reconnect after a pause.
            const delay = Math.min(30000, 1000 * 2 ** Math.min(failures, 5));
            await new Promise(resolve => setTimeout(resolve, delay));
        }
    }
    _startPolling() {
        this.live = 'polling';
        this._changed.emit();
        if (this._poll) {
            return;
        }
        this._poll = new _lumino_polling__rspack_import_0.Poll({
            auto: true,
            factory: () => this._pollOnce(),
            frequency: { interval: this._interval, backoff: true, max: 60000 },
            name: 'jobext:lists',
            standby: () => (this._visible ? 'when-hidden' : true)
        });
    }
    async _pollOnce() {
        await this.refresh();
        // Runs this tab started that the list (filtered, paged) does not show: ask for each.
        const shown = new Set(this.runs.items.map(r => r.id));
        const open = [...this._mine.entries()].filter(([id, status]) => !_types__rspack_import_2.FINAL_STATUSES.has(status) && !shown.has(id));
        for (const [id] of open) {
            try {
                this._applyRun(await this.api.getRun(id));
            }
            catch {
                this._mine.delete(id);
            }
        }
        for (const run of this.runs.items) {
            if (this._mine.has(run.id)) {
                this._applyRun(run);
            }
        }
    }
    _abort = new AbortController();
    _changed = new _lumino_signaling__rspack_import_1.Signal(this);
    _runUpdated = new _lumino_signaling__rspack_import_1.Signal(this);
    _runEnded = new _lumino_signaling__rspack_import_1.Signal(this);
    _disposed = false;
    _interval;
    _mine = new Map();
    _poll = null;
    _visible = true;
}


},
"./lib/sse.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  SSEParser: () => (SSEParser),
  StreamRefused: () => (StreamRefused),
  consumeStream: () => (consumeStream)
});
/**
 * Server-Sent Events read with fetch, so that the request carries JupyterLab's
 * Authorization header and XSRF token (an EventSource can send neither, and a token in a URL
 * ends up in logs and browser history).
 */
/**
 * An incremental parser of the text/event-stream format (WHATWG HTML, 9.2.6).
 *
 * Feed it text as it arrives, in chunks cut anywhere; it hands back the events that are
 * complete. Comment lines (`: keepalive`) are ignored; a `retry:` field is remembered.
 */
class SSEParser {
    /** The id of the last event with one: what to send as Last-Event-ID on reconnect. */
    lastEventId = '';
    /** The reconnection delay the server asked for, in ms (null: none asked). */
    retry = null;
    feed(chunk) {
        this._buffer += chunk;
        const events = [];
        // A line ends with CRLF, LF or CR; a CR at the very end may be the first half of a CRLF.
        let start = 0;
        for (;;) {
            const match = /\r\n|\n|\r/g;
            match.lastIndex = start;
            const found = match.exec(this._buffer);
            if (!found) {
                break;
            }
            if (found[0] === '\r' && found.index === this._buffer.length - 1) {
                break;
            }
            const line = this._buffer.slice(start, found.index);
            start = found.index + found[0].length;
            const event = this._line(line);
            if (event) {
                events.push(event);
            }
        }
        this._buffer = this._buffer.slice(start);
        return events;
    }
    _line(line) {
        if (line === '') {
            return this._dispatch();
        }
        if (line.startsWith(':')) {
            return null;
        }
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) {
            value = value.slice(1);
        }
        switch (field) {
            case 'data':
                this._data.push(value);
                break;
            case 'event':
                this._event = value;
                break;
            case 'id':
                if (!value.includes('\0')) {
                    this._id = value;
                }
                break;
            case 'retry':
                if (/^\d+$/.test(value)) {
                    this.retry = parseInt(value, 10);
                }
                break;
        }
        return null;
    }
    _dispatch() {
        if (this._id !== null) {
            this.lastEventId = this._id;
        }
        const hadData = this._data.length > 0;
        const event = {
            id: this._id ?? this.lastEventId,
            event: this._event || 'message',
            data: this._data.join('\n')
        };
        this._data = [];
        this._event = '';
        this._id = null;
        return hadData ? event : null;
    }
    _buffer = '';
    _data = [];
    _event = '';
    _id = null;
}
/** The server answered the stream's request with an error status. */
class StreamRefused extends Error {
    status;
    constructor(status, message) {
        super(message);
        this.status = status;
    }
}
/**
 * Read an event stream from a fetch Response until it ends; returns the parser (its
 * `lastEventId` is where to resume).
 */
async function consumeStream(response, handlers, parser = new SSEParser()) {
    if (!response.ok) {
        let message = `${response.status} ${response.statusText}`;
        try {
            const body = await response.json();
            if (body && typeof body.message === 'string') {
                message = body.message;
            }
        }
        catch {
            // not JSON: keep the status line
        }
        throw new StreamRefused(response.status, message);
    }
    handlers.onOpen?.();
    if (!response.body) {
        for (const event of parser.feed(await response.text())) {
            handlers.onEvent(event);
        }
        return parser;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
        const { done, value } = await reader.read();
        if (done) {
            break;
        }
        for (const event of parser.feed(decoder.decode(value, { stream: true }))) {
            handlers.onEvent(event);
        }
    }
    // An event cut off by the end of the stream is dropped, as the spec says.
    return parser;
}


},
"./lib/types.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  FINAL_STATUSES: () => (FINAL_STATUSES),
  RUN_STATUSES: () => (RUN_STATUSES)
});
/** The JSON shapes of jobext's REST API (see DESIGN.md, "REST API"). */
const RUN_STATUSES = [
    'queued',
    'running',
    'pausing',
    'paused',
    'stopping',
    'succeeded',
    'failed',
    'stopped'
];
const FINAL_STATUSES = new Set(['succeeded', 'failed', 'stopped']);


},
"./lib/widgets.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  JobsPanel: () => (JobsPanel),
  createRunWidget: () => (createRunWidget),
  jobsIcon: () => (jobsIcon)
});
/* import */ var _jupyterlab_apputils__rspack_import_0 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/apputils");
/* import */ var _jupyterlab_ui_components__rspack_import_1 = __webpack_require__("webpack/sharing/consume/default/@jupyterlab/ui-components");
/* import */ var react__rspack_import_2 = __webpack_require__("webpack/sharing/consume/default/react");
/* import */ var _components_BatchesSection__rspack_import_6 = __webpack_require__("./lib/components/BatchesSection.js");
/* import */ var _components_JobsSection__rspack_import_3 = __webpack_require__("./lib/components/JobsSection.js");
/* import */ var _components_RunDetail__rspack_import_8 = __webpack_require__("./lib/components/RunDetail.js");
/* import */ var _components_RunsSection__rspack_import_4 = __webpack_require__("./lib/components/RunsSection.js");
/* import */ var _components_SchedulesSection__rspack_import_5 = __webpack_require__("./lib/components/SchedulesSection.js");
/* import */ var _components_WorkersSection__rspack_import_7 = __webpack_require__("./lib/components/WorkersSection.js");
/** The Lumino shells: the side panel with one collapsible section each, and a run's tab. */









const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
<g class="jp-icon3" fill="#616161">
<path d="M4 4h16v3H4zM4 10.5h10v3H4zM4 17h13v3H4z"/>
<circle cx="19" cy="12" r="2.2"/>
</g></svg>`;
const jobsIcon = new _jupyterlab_ui_components__rspack_import_1.LabIcon({ name: 'jobext:jobs', svgstr: ICON_SVG });
function section(ctx, id, label, render) {
    const widget = _jupyterlab_ui_components__rspack_import_1.ReactWidget.create(react__rspack_import_2.createElement(_jupyterlab_ui_components__rspack_import_1.UseSignal, { signal: ctx.model.changed }, () => render(ctx)));
    widget.id = `jp-jobext-section-${id}`;
    widget.addClass('jp-jobext-section-widget');
    widget.title.label = label;
    return widget;
}
/** The left "Jobs" panel. */
class JobsPanel extends _jupyterlab_ui_components__rspack_import_1.SidePanel {
    ctx;
    constructor(ctx) {
        super();
        this.ctx = ctx;
        this.id = 'jp-jobext-panel';
        this.addClass('jp-jobext-panel');
        this.title.icon = jobsIcon;
        this.title.caption = 'Jobs';
        const header = _jupyterlab_ui_components__rspack_import_1.ReactWidget.create(react__rspack_import_2.createElement(_jupyterlab_ui_components__rspack_import_1.UseSignal, { signal: ctx.model.changed }, () => (react__rspack_import_2.createElement("div", { className: "jp-jobext-header" },
            react__rspack_import_2.createElement("span", { className: "jp-jobext-title" }, "Jobs"),
            react__rspack_import_2.createElement("span", { className: `jp-jobext-livemode jp-jobext-livemode-${ctx.model.live}`, title: ctx.model.live === 'events'
                    ? 'updated live by the server'
                    : ctx.model.live === 'polling'
                        ? 'this server has no event stream: refreshed periodically'
                        : 'connecting' }, ctx.model.live === 'events' ? 'live' : ctx.model.live),
            ctx.model.error && react__rspack_import_2.createElement("div", { className: "jp-jobext-error" }, ctx.model.error)))));
        this.header.addWidget(header);
        this.addWidget(section(ctx, 'jobs', 'Jobs', c => react__rspack_import_2.createElement(_components_JobsSection__rspack_import_3.JobsSection, { ctx: c })));
        this.addWidget(section(ctx, 'runs', 'Runs', c => react__rspack_import_2.createElement(_components_RunsSection__rspack_import_4.RunsSection, { ctx: c })));
        this.addWidget(section(ctx, 'schedules', 'Schedules', c => react__rspack_import_2.createElement(_components_SchedulesSection__rspack_import_5.SchedulesSection, { ctx: c })));
        this.addWidget(section(ctx, 'batches', 'Batches', c => react__rspack_import_2.createElement(_components_BatchesSection__rspack_import_6.BatchesSection, { ctx: c })));
        this.addWidget(section(ctx, 'workers', 'Workers', c => react__rspack_import_2.createElement(_components_WorkersSection__rspack_import_7.WorkersSection, { ctx: c })));
    }
    onAfterShow() {
        this.ctx.model.setVisible(true);
    }
    onAfterHide() {
        this.ctx.model.setVisible(false);
    }
}
/** A run's detail as a main-area tab. */
function createRunWidget(ctx, runId, openNotebook) {
    let main = null;
    const content = _jupyterlab_ui_components__rspack_import_1.ReactWidget.create(react__rspack_import_2.createElement(_components_RunDetail__rspack_import_8.RunDetail, { api: ctx.api, model: ctx.model, runId: runId, openRun: ctx.openRun, openNotebook: openNotebook, onTitle: run => {
            if (main) {
                main.title.label = `${run.job} #${run.id} · ${run.status}`;
            }
        } }));
    content.addClass('jp-jobext-detail-widget');
    main = new _jupyterlab_apputils__rspack_import_0.MainAreaWidget({ content });
    main.id = `jp-jobext-run-${runId}`;
    main.title.label = `Run #${runId}`;
    main.title.icon = jobsIcon;
    main.title.closable = true;
    return main;
}


},

}]);
//# sourceMappingURL=lib_index_js.2ba6f09e5df895f0.js.map