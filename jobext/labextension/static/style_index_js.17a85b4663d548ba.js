"use strict";
(self["rspackChunkjobext"] = self["rspackChunkjobext"] || []).push([["style_index_js"], {
"./node_modules/css-loader/dist/cjs.js!./style/base.css"(module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  "default": () => (__rspack_default_export)
});
/* import */ var _node_modules_css_loader_dist_runtime_sourceMaps_js__rspack_import_0 = __webpack_require__("./node_modules/css-loader/dist/runtime/sourceMaps.js");
/* import */ var _node_modules_css_loader_dist_runtime_sourceMaps_js__rspack_import_0_default = /*#__PURE__*/__webpack_require__.n(_node_modules_css_loader_dist_runtime_sourceMaps_js__rspack_import_0);
/* import */ var _node_modules_css_loader_dist_runtime_api_js__rspack_import_1 = __webpack_require__("./node_modules/css-loader/dist/runtime/api.js");
/* import */ var _node_modules_css_loader_dist_runtime_api_js__rspack_import_1_default = /*#__PURE__*/__webpack_require__.n(_node_modules_css_loader_dist_runtime_api_js__rspack_import_1);
// Imports


var ___CSS_LOADER_EXPORT___ = _node_modules_css_loader_dist_runtime_api_js__rspack_import_1_default()((_node_modules_css_loader_dist_runtime_sourceMaps_js__rspack_import_0_default()));
// Module
___CSS_LOADER_EXPORT___.push([module.id, `/* jobext panel: JupyterLab's CSS variables only, so every theme fits. */
.jp-jobext-panel { background: var(--jp-layout-color1); color: var(--jp-ui-font-color1); font-size: var(--jp-ui-font-size1); }
.jp-jobext-header { display: flex; align-items: center; gap: 8px; padding: 6px 8px; flex-wrap: wrap; }
.jp-jobext-title { font-weight: 600; text-transform: uppercase; font-size: var(--jp-ui-font-size0); letter-spacing: .05em; }
.jp-jobext-livemode { font-size: var(--jp-ui-font-size0); padding: 0 6px; border-radius: 8px; background: var(--jp-layout-color3); }
.jp-jobext-livemode-events { background: var(--jp-success-color3); color: var(--jp-success-color0); }
.jp-jobext-section-widget { overflow: auto; min-height: 40px; }
.jp-jobext-section { padding: 4px 6px 8px; }
.jp-jobext-toolbar, .jp-jobext-filters { display: flex; gap: 4px; align-items: center; margin: 2px 0 6px; flex-wrap: wrap; }
.jp-jobext-filters select, .jp-jobext-filters input { flex: 1 1 90px; min-width: 0; font-size: var(--jp-ui-font-size0); }
.jp-jobext-search { flex: 1; min-width: 0; }
.jp-jobext-spacer { flex: 1; }
.jp-jobext-list { list-style: none; margin: 0; padding: 0; }
.jp-jobext-item { border-bottom: 1px solid var(--jp-border-color2); padding: 3px 2px; }
.jp-jobext-run { cursor: pointer; }
.jp-jobext-run:hover, .jp-jobext-item-head:hover { background: var(--jp-layout-color2); }
.jp-jobext-item-head { display: flex; align-items: center; gap: 6px; cursor: pointer; min-height: 24px; }
.jp-jobext-item-body { padding: 4px 0 4px 8px; display: flex; flex-direction: column; gap: 4px; }
.jp-jobext-item-progress { display: flex; align-items: center; gap: 6px; padding-left: 22px; }
.jp-jobext-name { font-weight: 500; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.jp-jobext-kind, .jp-jobext-trigger, .jp-jobext-count { font-size: var(--jp-ui-font-size0); color: var(--jp-ui-font-color2); border: 1px solid var(--jp-border-color2); border-radius: 3px; padding: 0 4px; }
.jp-jobext-counts { display: flex; gap: 4px; flex-wrap: wrap; margin: 2px 0; }
.jp-jobext-target, .jp-jobext-cron { font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size); word-break: break-all; }
.jp-jobext-times, .jp-jobext-next, .jp-jobext-hint, .jp-jobext-message, .jp-jobext-slots { color: var(--jp-ui-font-color2); font-size: var(--jp-ui-font-size0); }
.jp-jobext-buttons { display: flex; gap: 4px; flex-wrap: wrap; align-items: center; }
.jp-jobext-button { height: 22px; line-height: 20px; padding: 0 8px; font-size: var(--jp-ui-font-size0); }
.jp-jobext-button:disabled { opacity: .45; cursor: default; }
.jp-jobext-status { font-size: var(--jp-ui-font-size0); border-radius: 8px; padding: 0 6px; background: var(--jp-layout-color3); color: var(--jp-ui-font-color1); white-space: nowrap; }
.jp-jobext-status-running, .jp-jobext-status-pausing, .jp-jobext-status-stopping, .jp-jobext-status-starting, .jp-jobext-status-re-starting { background: var(--jp-brand-color3); color: var(--jp-brand-color0); }
.jp-jobext-status-succeeded, .jp-jobext-status-completed, .jp-jobext-status-active, .jp-jobext-status-online { background: var(--jp-success-color3); color: var(--jp-success-color0); }
.jp-jobext-status-failed, .jp-jobext-status-invalid, .jp-jobext-status-offline { background: var(--jp-error-color3); color: var(--jp-error-color0); }
.jp-jobext-status-stopped, .jp-jobext-status-paused, .jp-jobext-status-draining { background: var(--jp-warn-color3); color: var(--jp-warn-color0); }
.jp-jobext-progress { flex: 1; height: 6px; background: var(--jp-layout-color3); border-radius: 3px; overflow: hidden; min-width: 40px; }
.jp-jobext-progress-fill { height: 100%; background: var(--jp-brand-color1); transition: width .3s; }
.jp-jobext-error { color: var(--jp-error-color1); white-space: pre-wrap; font-size: var(--jp-ui-font-size1); }
.jp-jobext-unavailable, .jp-jobext-empty { color: var(--jp-ui-font-color2); padding: 6px 4px; font-style: italic; }
.jp-jobext-group-head { font-weight: 600; margin-top: 6px; }
.jp-jobext-check { display: inline-flex; align-items: center; gap: 4px; }
.jp-jobext-meters { display: flex; flex-direction: column; gap: 2px; }
.jp-jobext-meter { display: flex; align-items: center; gap: 6px; font-size: var(--jp-ui-font-size0); }
.jp-jobext-fires { list-style: none; padding: 0; margin: 0; font-size: var(--jp-ui-font-size0); }
.jp-jobext-outcome-failed, .jp-jobext-outcome-missed { color: var(--jp-error-color1); }
/* forms */
.jp-jobext-form { min-width: 420px; }
.jp-jobext-fields { display: flex; flex-direction: column; gap: 6px; }
.jp-jobext-field { display: flex; flex-direction: column; gap: 2px; flex: 1; }
.jp-jobext-field-label { font-size: var(--jp-ui-font-size0); color: var(--jp-ui-font-color2); }
.jp-jobext-field textarea { font-family: var(--jp-code-font-family); resize: vertical; }
.jp-jobext-row { display: flex; gap: 8px; }
.jp-jobext-form-error { margin-bottom: 8px; }
.jp-jobext-preview { font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size); border-collapse: collapse; }
.jp-jobext-preview th { text-align: left; font-weight: normal; color: var(--jp-ui-font-color2); padding-right: 12px; }
.jp-jobext-preview td { padding-right: 12px; }
/* run detail */
.jp-jobext-detail-widget { overflow: auto; background: var(--jp-layout-color0); }
.jp-jobext-detail { padding: 12px 16px; display: flex; flex-direction: column; gap: 8px; min-height: 100%; box-sizing: border-box; }
.jp-jobext-detail-head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.jp-jobext-detail-head h2 { margin: 0; font-size: var(--jp-content-font-size3); }
.jp-jobext-runid { color: var(--jp-ui-font-color2); font-weight: normal; }
.jp-jobext-live.jp-mod-live { color: var(--jp-success-color1); }
.jp-jobext-detail-progress { display: flex; align-items: center; gap: 8px; max-width: 640px; }
.jp-jobext-facts { border-collapse: collapse; font-size: var(--jp-ui-font-size1); }
.jp-jobext-facts th { text-align: left; color: var(--jp-ui-font-color2); font-weight: normal; padding-right: 8px; }
.jp-jobext-facts td { padding-right: 24px; }
.jp-jobext-steps { margin: 0; padding-left: 20px; }
.jp-jobext-run-error pre, .jp-jobext-args pre { background: var(--jp-layout-color2); padding: 6px; overflow: auto; max-height: 240px; font-size: var(--jp-code-font-size); }
.jp-jobext-result { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.jp-jobext-csv-wrap { flex-basis: 100%; overflow: auto; max-height: 300px; }
.jp-jobext-csv { border-collapse: collapse; font-size: var(--jp-code-font-size); font-family: var(--jp-code-font-family); }
.jp-jobext-csv th, .jp-jobext-csv td { border: 1px solid var(--jp-border-color2); padding: 1px 6px; text-align: left; }
.jp-jobext-log-title { margin: 4px 0 0; font-size: var(--jp-ui-font-size2); }
.jp-jobext-log-wrap { display: flex; flex-direction: column; flex: 1; min-height: 200px; }
.jp-jobext-log { flex: 1; overflow: auto; max-height: 60vh; min-height: 160px; background: var(--jp-layout-color2); font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size); padding: 4px 6px; }
.jp-jobext-log-line { white-space: pre-wrap; word-break: break-word; }
.jp-jobext-log-ts { color: var(--jp-ui-font-color3); margin-right: 8px; user-select: none; }
.jp-jobext-log-stderr .jp-jobext-log-text, .jp-jobext-level-ERROR .jp-jobext-log-text { color: var(--jp-error-color1); }
.jp-jobext-load-earlier { align-self: flex-start; margin-bottom: 4px; }
`, "",{"version":3,"sources":["webpack://./style/base.css"],"names":[],"mappings":"AAAA,wEAAwE;AACxE,mBAAmB,mCAAmC,EAAE,+BAA+B,EAAE,kCAAkC,EAAE;AAC7H,oBAAoB,aAAa,EAAE,mBAAmB,EAAE,QAAQ,EAAE,gBAAgB,EAAE,eAAe,EAAE;AACrG,mBAAmB,gBAAgB,EAAE,yBAAyB,EAAE,kCAAkC,EAAE,qBAAqB,EAAE;AAC3H,sBAAsB,kCAAkC,EAAE,cAAc,EAAE,kBAAkB,EAAE,mCAAmC,EAAE;AACnI,6BAA6B,oCAAoC,EAAE,+BAA+B,EAAE;AACpG,4BAA4B,cAAc,EAAE,gBAAgB,EAAE;AAC9D,qBAAqB,oBAAoB,EAAE;AAC3C,yCAAyC,aAAa,EAAE,QAAQ,EAAE,mBAAmB,EAAE,iBAAiB,EAAE,eAAe,EAAE;AAC3H,sDAAsD,cAAc,EAAE,YAAY,EAAE,kCAAkC,EAAE;AACxH,oBAAoB,OAAO,EAAE,YAAY,EAAE;AAC3C,oBAAoB,OAAO,EAAE;AAC7B,kBAAkB,gBAAgB,EAAE,SAAS,EAAE,UAAU,EAAE;AAC3D,kBAAkB,gDAAgD,EAAE,gBAAgB,EAAE;AACtF,iBAAiB,eAAe,EAAE;AAClC,mDAAmD,mCAAmC,EAAE;AACxF,uBAAuB,aAAa,EAAE,mBAAmB,EAAE,QAAQ,EAAE,eAAe,EAAE,gBAAgB,EAAE;AACxG,uBAAuB,sBAAsB,EAAE,aAAa,EAAE,sBAAsB,EAAE,QAAQ,EAAE;AAChG,2BAA2B,aAAa,EAAE,mBAAmB,EAAE,QAAQ,EAAE,kBAAkB,EAAE;AAC7F,kBAAkB,gBAAgB,EAAE,gBAAgB,EAAE,uBAAuB,EAAE,mBAAmB,EAAE;AACpG,wDAAwD,kCAAkC,EAAE,+BAA+B,EAAE,yCAAyC,EAAE,kBAAkB,EAAE,cAAc,EAAE;AAC5M,oBAAoB,aAAa,EAAE,QAAQ,EAAE,eAAe,EAAE,aAAa,EAAE;AAC7E,qCAAqC,uCAAuC,EAAE,mCAAmC,EAAE,qBAAqB,EAAE;AAC1I,2FAA2F,+BAA+B,EAAE,kCAAkC,EAAE;AAChK,qBAAqB,aAAa,EAAE,QAAQ,EAAE,eAAe,EAAE,mBAAmB,EAAE;AACpF,oBAAoB,YAAY,EAAE,iBAAiB,EAAE,cAAc,EAAE,kCAAkC,EAAE;AACzG,6BAA6B,YAAY,EAAE,eAAe,EAAE;AAC5D,oBAAoB,kCAAkC,EAAE,kBAAkB,EAAE,cAAc,EAAE,mCAAmC,EAAE,+BAA+B,EAAE,mBAAmB,EAAE;AACvL,8IAA8I,kCAAkC,EAAE,6BAA6B,EAAE;AACjN,+GAA+G,oCAAoC,EAAE,+BAA+B,EAAE;AACtL,iFAAiF,kCAAkC,EAAE,6BAA6B,EAAE;AACpJ,kFAAkF,iCAAiC,EAAE,4BAA4B,EAAE;AACnJ,sBAAsB,OAAO,EAAE,WAAW,EAAE,mCAAmC,EAAE,kBAAkB,EAAE,gBAAgB,EAAE,eAAe,EAAE;AACxI,2BAA2B,YAAY,EAAE,kCAAkC,EAAE,qBAAqB,EAAE;AACpG,mBAAmB,6BAA6B,EAAE,qBAAqB,EAAE,kCAAkC,EAAE;AAC7G,2CAA2C,+BAA+B,EAAE,gBAAgB,EAAE,kBAAkB,EAAE;AAClH,wBAAwB,gBAAgB,EAAE,eAAe,EAAE;AAC3D,mBAAmB,oBAAoB,EAAE,mBAAmB,EAAE,QAAQ,EAAE;AACxE,oBAAoB,aAAa,EAAE,sBAAsB,EAAE,QAAQ,EAAE;AACrE,mBAAmB,aAAa,EAAE,mBAAmB,EAAE,QAAQ,EAAE,kCAAkC,EAAE;AACrG,mBAAmB,gBAAgB,EAAE,UAAU,EAAE,SAAS,EAAE,kCAAkC,EAAE;AAChG,uDAAuD,6BAA6B,EAAE;AACtF,UAAU;AACV,kBAAkB,gBAAgB,EAAE;AACpC,oBAAoB,aAAa,EAAE,sBAAsB,EAAE,QAAQ,EAAE;AACrE,mBAAmB,aAAa,EAAE,sBAAsB,EAAE,QAAQ,EAAE,OAAO,EAAE;AAC7E,yBAAyB,kCAAkC,EAAE,+BAA+B,EAAE;AAC9F,4BAA4B,uCAAuC,EAAE,gBAAgB,EAAE;AACvF,iBAAiB,aAAa,EAAE,QAAQ,EAAE;AAC1C,wBAAwB,kBAAkB,EAAE;AAC5C,qBAAqB,uCAAuC,EAAE,mCAAmC,EAAE,yBAAyB,EAAE;AAC9H,wBAAwB,gBAAgB,EAAE,mBAAmB,EAAE,+BAA+B,EAAE,mBAAmB,EAAE;AACrH,wBAAwB,mBAAmB,EAAE;AAC7C,eAAe;AACf,2BAA2B,cAAc,EAAE,mCAAmC,EAAE;AAChF,oBAAoB,kBAAkB,EAAE,aAAa,EAAE,sBAAsB,EAAE,QAAQ,EAAE,gBAAgB,EAAE,sBAAsB,EAAE;AACnI,yBAAyB,aAAa,EAAE,mBAAmB,EAAE,SAAS,EAAE,eAAe,EAAE;AACzF,4BAA4B,SAAS,EAAE,uCAAuC,EAAE;AAChF,mBAAmB,+BAA+B,EAAE,mBAAmB,EAAE;AACzE,8BAA8B,+BAA+B,EAAE;AAC/D,6BAA6B,aAAa,EAAE,mBAAmB,EAAE,QAAQ,EAAE,gBAAgB,EAAE;AAC7F,mBAAmB,yBAAyB,EAAE,kCAAkC,EAAE;AAClF,sBAAsB,gBAAgB,EAAE,+BAA+B,EAAE,mBAAmB,EAAE,kBAAkB,EAAE;AAClH,sBAAsB,mBAAmB,EAAE;AAC3C,mBAAmB,SAAS,EAAE,kBAAkB,EAAE;AAClD,gDAAgD,mCAAmC,EAAE,YAAY,EAAE,cAAc,EAAE,iBAAiB,EAAE,mCAAmC,EAAE;AAC3K,oBAAoB,aAAa,EAAE,eAAe,EAAE,QAAQ,EAAE,mBAAmB,EAAE;AACnF,sBAAsB,gBAAgB,EAAE,cAAc,EAAE,iBAAiB,EAAE;AAC3E,iBAAiB,yBAAyB,EAAE,mCAAmC,EAAE,uCAAuC,EAAE;AAC1H,uCAAuC,yCAAyC,EAAE,gBAAgB,EAAE,gBAAgB,EAAE;AACtH,uBAAuB,eAAe,EAAE,kCAAkC,EAAE;AAC5E,sBAAsB,aAAa,EAAE,sBAAsB,EAAE,OAAO,EAAE,iBAAiB,EAAE;AACzF,iBAAiB,OAAO,EAAE,cAAc,EAAE,gBAAgB,EAAE,iBAAiB,EAAE,mCAAmC,EAAE,uCAAuC,EAAE,mCAAmC,EAAE,gBAAgB,EAAE;AACpN,sBAAsB,qBAAqB,EAAE,sBAAsB,EAAE;AACrE,oBAAoB,+BAA+B,EAAE,iBAAiB,EAAE,iBAAiB,EAAE;AAC3F,wFAAwF,6BAA6B,EAAE;AACvH,0BAA0B,sBAAsB,EAAE,kBAAkB,EAAE","sourcesContent":["/* jobext panel: JupyterLab's CSS variables only, so every theme fits. */\n.jp-jobext-panel { background: var(--jp-layout-color1); color: var(--jp-ui-font-color1); font-size: var(--jp-ui-font-size1); }\n.jp-jobext-header { display: flex; align-items: center; gap: 8px; padding: 6px 8px; flex-wrap: wrap; }\n.jp-jobext-title { font-weight: 600; text-transform: uppercase; font-size: var(--jp-ui-font-size0); letter-spacing: .05em; }\n.jp-jobext-livemode { font-size: var(--jp-ui-font-size0); padding: 0 6px; border-radius: 8px; background: var(--jp-layout-color3); }\n.jp-jobext-livemode-events { background: var(--jp-success-color3); color: var(--jp-success-color0); }\n.jp-jobext-section-widget { overflow: auto; min-height: 40px; }\n.jp-jobext-section { padding: 4px 6px 8px; }\n.jp-jobext-toolbar, .jp-jobext-filters { display: flex; gap: 4px; align-items: center; margin: 2px 0 6px; flex-wrap: wrap; }\n.jp-jobext-filters select, .jp-jobext-filters input { flex: 1 1 90px; min-width: 0; font-size: var(--jp-ui-font-size0); }\n.jp-jobext-search { flex: 1; min-width: 0; }\n.jp-jobext-spacer { flex: 1; }\n.jp-jobext-list { list-style: none; margin: 0; padding: 0; }\n.jp-jobext-item { border-bottom: 1px solid var(--jp-border-color2); padding: 3px 2px; }\n.jp-jobext-run { cursor: pointer; }\n.jp-jobext-run:hover, .jp-jobext-item-head:hover { background: var(--jp-layout-color2); }\n.jp-jobext-item-head { display: flex; align-items: center; gap: 6px; cursor: pointer; min-height: 24px; }\n.jp-jobext-item-body { padding: 4px 0 4px 8px; display: flex; flex-direction: column; gap: 4px; }\n.jp-jobext-item-progress { display: flex; align-items: center; gap: 6px; padding-left: 22px; }\n.jp-jobext-name { font-weight: 500; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }\n.jp-jobext-kind, .jp-jobext-trigger, .jp-jobext-count { font-size: var(--jp-ui-font-size0); color: var(--jp-ui-font-color2); border: 1px solid var(--jp-border-color2); border-radius: 3px; padding: 0 4px; }\n.jp-jobext-counts { display: flex; gap: 4px; flex-wrap: wrap; margin: 2px 0; }\n.jp-jobext-target, .jp-jobext-cron { font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size); word-break: break-all; }\n.jp-jobext-times, .jp-jobext-next, .jp-jobext-hint, .jp-jobext-message, .jp-jobext-slots { color: var(--jp-ui-font-color2); font-size: var(--jp-ui-font-size0); }\n.jp-jobext-buttons { display: flex; gap: 4px; flex-wrap: wrap; align-items: center; }\n.jp-jobext-button { height: 22px; line-height: 20px; padding: 0 8px; font-size: var(--jp-ui-font-size0); }\n.jp-jobext-button:disabled { opacity: .45; cursor: default; }\n.jp-jobext-status { font-size: var(--jp-ui-font-size0); border-radius: 8px; padding: 0 6px; background: var(--jp-layout-color3); color: var(--jp-ui-font-color1); white-space: nowrap; }\n.jp-jobext-status-running, .jp-jobext-status-pausing, .jp-jobext-status-stopping, .jp-jobext-status-starting, .jp-jobext-status-re-starting { background: var(--jp-brand-color3); color: var(--jp-brand-color0); }\n.jp-jobext-status-succeeded, .jp-jobext-status-completed, .jp-jobext-status-active, .jp-jobext-status-online { background: var(--jp-success-color3); color: var(--jp-success-color0); }\n.jp-jobext-status-failed, .jp-jobext-status-invalid, .jp-jobext-status-offline { background: var(--jp-error-color3); color: var(--jp-error-color0); }\n.jp-jobext-status-stopped, .jp-jobext-status-paused, .jp-jobext-status-draining { background: var(--jp-warn-color3); color: var(--jp-warn-color0); }\n.jp-jobext-progress { flex: 1; height: 6px; background: var(--jp-layout-color3); border-radius: 3px; overflow: hidden; min-width: 40px; }\n.jp-jobext-progress-fill { height: 100%; background: var(--jp-brand-color1); transition: width .3s; }\n.jp-jobext-error { color: var(--jp-error-color1); white-space: pre-wrap; font-size: var(--jp-ui-font-size1); }\n.jp-jobext-unavailable, .jp-jobext-empty { color: var(--jp-ui-font-color2); padding: 6px 4px; font-style: italic; }\n.jp-jobext-group-head { font-weight: 600; margin-top: 6px; }\n.jp-jobext-check { display: inline-flex; align-items: center; gap: 4px; }\n.jp-jobext-meters { display: flex; flex-direction: column; gap: 2px; }\n.jp-jobext-meter { display: flex; align-items: center; gap: 6px; font-size: var(--jp-ui-font-size0); }\n.jp-jobext-fires { list-style: none; padding: 0; margin: 0; font-size: var(--jp-ui-font-size0); }\n.jp-jobext-outcome-failed, .jp-jobext-outcome-missed { color: var(--jp-error-color1); }\n/* forms */\n.jp-jobext-form { min-width: 420px; }\n.jp-jobext-fields { display: flex; flex-direction: column; gap: 6px; }\n.jp-jobext-field { display: flex; flex-direction: column; gap: 2px; flex: 1; }\n.jp-jobext-field-label { font-size: var(--jp-ui-font-size0); color: var(--jp-ui-font-color2); }\n.jp-jobext-field textarea { font-family: var(--jp-code-font-family); resize: vertical; }\n.jp-jobext-row { display: flex; gap: 8px; }\n.jp-jobext-form-error { margin-bottom: 8px; }\n.jp-jobext-preview { font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size); border-collapse: collapse; }\n.jp-jobext-preview th { text-align: left; font-weight: normal; color: var(--jp-ui-font-color2); padding-right: 12px; }\n.jp-jobext-preview td { padding-right: 12px; }\n/* run detail */\n.jp-jobext-detail-widget { overflow: auto; background: var(--jp-layout-color0); }\n.jp-jobext-detail { padding: 12px 16px; display: flex; flex-direction: column; gap: 8px; min-height: 100%; box-sizing: border-box; }\n.jp-jobext-detail-head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }\n.jp-jobext-detail-head h2 { margin: 0; font-size: var(--jp-content-font-size3); }\n.jp-jobext-runid { color: var(--jp-ui-font-color2); font-weight: normal; }\n.jp-jobext-live.jp-mod-live { color: var(--jp-success-color1); }\n.jp-jobext-detail-progress { display: flex; align-items: center; gap: 8px; max-width: 640px; }\n.jp-jobext-facts { border-collapse: collapse; font-size: var(--jp-ui-font-size1); }\n.jp-jobext-facts th { text-align: left; color: var(--jp-ui-font-color2); font-weight: normal; padding-right: 8px; }\n.jp-jobext-facts td { padding-right: 24px; }\n.jp-jobext-steps { margin: 0; padding-left: 20px; }\n.jp-jobext-run-error pre, .jp-jobext-args pre { background: var(--jp-layout-color2); padding: 6px; overflow: auto; max-height: 240px; font-size: var(--jp-code-font-size); }\n.jp-jobext-result { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }\n.jp-jobext-csv-wrap { flex-basis: 100%; overflow: auto; max-height: 300px; }\n.jp-jobext-csv { border-collapse: collapse; font-size: var(--jp-code-font-size); font-family: var(--jp-code-font-family); }\n.jp-jobext-csv th, .jp-jobext-csv td { border: 1px solid var(--jp-border-color2); padding: 1px 6px; text-align: left; }\n.jp-jobext-log-title { margin: 4px 0 0; font-size: var(--jp-ui-font-size2); }\n.jp-jobext-log-wrap { display: flex; flex-direction: column; flex: 1; min-height: 200px; }\n.jp-jobext-log { flex: 1; overflow: auto; max-height: 60vh; min-height: 160px; background: var(--jp-layout-color2); font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size); padding: 4px 6px; }\n.jp-jobext-log-line { white-space: pre-wrap; word-break: break-word; }\n.jp-jobext-log-ts { color: var(--jp-ui-font-color3); margin-right: 8px; user-select: none; }\n.jp-jobext-log-stderr .jp-jobext-log-text, .jp-jobext-level-ERROR .jp-jobext-log-text { color: var(--jp-error-color1); }\n.jp-jobext-load-earlier { align-self: flex-start; margin-bottom: 4px; }\n"],"sourceRoot":""}]);
// Exports
/* export default */ const __rspack_default_export = (___CSS_LOADER_EXPORT___);


},
"./node_modules/css-loader/dist/runtime/api.js"(module) {


/*
  MIT License http://www.opensource.org/licenses/mit-license.php
  Author Tobias Koppers @sokra
*/
module.exports = function (cssWithMappingToString) {
  var list = [];

  // return the list of modules as css string
  list.toString = function toString() {
    return this.map(function (item) {
      var content = "";
      var needLayer = typeof item[5] !== "undefined";
      if (item[4]) {
        content += "@supports (".concat(item[4], ") {");
      }
      if (item[2]) {
        content += "@media ".concat(item[2], " {");
      }
      if (needLayer) {
        content += "@layer".concat(item[5].length > 0 ? " ".concat(item[5]) : "", " {");
      }
      content += cssWithMappingToString(item);
      if (needLayer) {
        content += "}";
      }
      if (item[2]) {
        content += "}";
      }
      if (item[4]) {
        content += "}";
      }
      return content;
    }).join("");
  };

  // import a list of modules into the list
  list.i = function i(modules, media, dedupe, supports, layer) {
    if (typeof modules === "string") {
      modules = [[null, modules, undefined]];
    }
    var alreadyImportedModules = {};
    if (dedupe) {
      for (var k = 0; k < this.length; k++) {
        var id = this[k][0];
        if (id != null) {
          alreadyImportedModules[id] = true;
        }
      }
    }
    for (var _k = 0; _k < modules.length; _k++) {
      var item = [].concat(modules[_k]);
      if (dedupe && alreadyImportedModules[item[0]]) {
        continue;
      }
      if (typeof layer !== "undefined") {
        if (typeof item[5] === "undefined") {
          item[5] = layer;
        } else {
          item[1] = "@layer".concat(item[5].length > 0 ? " ".concat(item[5]) : "", " {").concat(item[1], "}");
          item[5] = layer;
        }
      }
      if (media) {
        if (!item[2]) {
          item[2] = media;
        } else {
          item[1] = "@media ".concat(item[2], " {").concat(item[1], "}");
          item[2] = media;
        }
      }
      if (supports) {
        if (!item[4]) {
          item[4] = "".concat(supports);
        } else {
          item[1] = "@supports (".concat(item[4], ") {").concat(item[1], "}");
          item[4] = supports;
        }
      }
      list.push(item);
    }
  };
  return list;
};

},
"./node_modules/css-loader/dist/runtime/sourceMaps.js"(module) {


module.exports = function (item) {
  var content = item[1];
  var cssMapping = item[3];
  if (!cssMapping) {
    return content;
  }
  if (typeof btoa === "function") {
    var base64 = btoa(unescape(encodeURIComponent(JSON.stringify(cssMapping))));
    var data = "sourceMappingURL=data:application/json;charset=utf-8;base64,".concat(base64);
    var sourceMapping = "/*# ".concat(data, " */");
    return [content].concat([sourceMapping]).join("\n");
  }
  return [content].join("\n");
};

},
"./style/base.css"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
__webpack_require__.d(__webpack_exports__, {
  "default": () => (__rspack_default_export)
});
/* import */ var _node_modules_style_loader_dist_runtime_injectStylesIntoStyleTag_js__rspack_import_0 = __webpack_require__("./node_modules/style-loader/dist/runtime/injectStylesIntoStyleTag.js");
/* import */ var _node_modules_style_loader_dist_runtime_injectStylesIntoStyleTag_js__rspack_import_0_default = /*#__PURE__*/__webpack_require__.n(_node_modules_style_loader_dist_runtime_injectStylesIntoStyleTag_js__rspack_import_0);
/* import */ var _node_modules_style_loader_dist_runtime_styleDomAPI_js__rspack_import_1 = __webpack_require__("./node_modules/style-loader/dist/runtime/styleDomAPI.js");
/* import */ var _node_modules_style_loader_dist_runtime_styleDomAPI_js__rspack_import_1_default = /*#__PURE__*/__webpack_require__.n(_node_modules_style_loader_dist_runtime_styleDomAPI_js__rspack_import_1);
/* import */ var _node_modules_style_loader_dist_runtime_insertBySelector_js__rspack_import_2 = __webpack_require__("./node_modules/style-loader/dist/runtime/insertBySelector.js");
/* import */ var _node_modules_style_loader_dist_runtime_insertBySelector_js__rspack_import_2_default = /*#__PURE__*/__webpack_require__.n(_node_modules_style_loader_dist_runtime_insertBySelector_js__rspack_import_2);
/* import */ var _node_modules_style_loader_dist_runtime_setAttributesWithoutAttributes_js__rspack_import_3 = __webpack_require__("./node_modules/style-loader/dist/runtime/setAttributesWithoutAttributes.js");
/* import */ var _node_modules_style_loader_dist_runtime_setAttributesWithoutAttributes_js__rspack_import_3_default = /*#__PURE__*/__webpack_require__.n(_node_modules_style_loader_dist_runtime_setAttributesWithoutAttributes_js__rspack_import_3);
/* import */ var _node_modules_style_loader_dist_runtime_insertStyleElement_js__rspack_import_4 = __webpack_require__("./node_modules/style-loader/dist/runtime/insertStyleElement.js");
/* import */ var _node_modules_style_loader_dist_runtime_insertStyleElement_js__rspack_import_4_default = /*#__PURE__*/__webpack_require__.n(_node_modules_style_loader_dist_runtime_insertStyleElement_js__rspack_import_4);
/* import */ var _node_modules_style_loader_dist_runtime_styleTagTransform_js__rspack_import_5 = __webpack_require__("./node_modules/style-loader/dist/runtime/styleTagTransform.js");
/* import */ var _node_modules_style_loader_dist_runtime_styleTagTransform_js__rspack_import_5_default = /*#__PURE__*/__webpack_require__.n(_node_modules_style_loader_dist_runtime_styleTagTransform_js__rspack_import_5);
/* import */ var _node_modules_css_loader_dist_cjs_js_base_css__rspack_import_6 = __webpack_require__("./node_modules/css-loader/dist/cjs.js!./style/base.css");

      
      
      
      
      
      
      
      
      

var options = {};

options.styleTagTransform = (_node_modules_style_loader_dist_runtime_styleTagTransform_js__rspack_import_5_default());
options.setAttributes = (_node_modules_style_loader_dist_runtime_setAttributesWithoutAttributes_js__rspack_import_3_default());
options.insert = _node_modules_style_loader_dist_runtime_insertBySelector_js__rspack_import_2_default().bind(null, "head");
options.domAPI = (_node_modules_style_loader_dist_runtime_styleDomAPI_js__rspack_import_1_default());
options.insertStyleElement = (_node_modules_style_loader_dist_runtime_insertStyleElement_js__rspack_import_4_default());

var update = _node_modules_style_loader_dist_runtime_injectStylesIntoStyleTag_js__rspack_import_0_default()(_node_modules_css_loader_dist_cjs_js_base_css__rspack_import_6["default"], options);




       /* export default */ const __rspack_default_export = (_node_modules_css_loader_dist_cjs_js_base_css__rspack_import_6["default"] && _node_modules_css_loader_dist_cjs_js_base_css__rspack_import_6["default"].locals ? _node_modules_css_loader_dist_cjs_js_base_css__rspack_import_6["default"].locals : undefined);


},
"./node_modules/style-loader/dist/runtime/injectStylesIntoStyleTag.js"(module) {


var stylesInDOM = [];
function getIndexByIdentifier(identifier) {
  var result = -1;
  for (var i = 0; i < stylesInDOM.length; i++) {
    if (stylesInDOM[i].identifier === identifier) {
      result = i;
      break;
    }
  }
  return result;
}
function modulesToDom(list, options) {
  var idCountMap = {};
  var identifiers = [];
  for (var i = 0; i < list.length; i++) {
    var item = list[i];
    var id = options.base ? item[0] + options.base : item[0];
    var count = idCountMap[id] || 0;
    var identifier = "".concat(id, " ").concat(count);
    idCountMap[id] = count + 1;
    var indexByIdentifier = getIndexByIdentifier(identifier);
    var obj = {
      css: item[1],
      media: item[2],
      sourceMap: item[3],
      supports: item[4],
      layer: item[5]
    };
    if (indexByIdentifier !== -1) {
      stylesInDOM[indexByIdentifier].references++;
      stylesInDOM[indexByIdentifier].updater(obj);
    } else {
      var updater = addElementStyle(obj, options);
      options.byIndex = i;
      stylesInDOM.splice(i, 0, {
        identifier: identifier,
        updater: updater,
        references: 1
      });
    }
    identifiers.push(identifier);
  }
  return identifiers;
}
function addElementStyle(obj, options) {
  var api = options.domAPI(options);
  api.update(obj);
  var updater = function updater(newObj) {
    if (newObj) {
      if (newObj.css === obj.css && newObj.media === obj.media && newObj.sourceMap === obj.sourceMap && newObj.supports === obj.supports && newObj.layer === obj.layer) {
        return;
      }
      api.update(obj = newObj);
    } else {
      api.remove();
    }
  };
  return updater;
}
module.exports = function (list, options) {
  options = options || {};
  list = list || [];
  var lastIdentifiers = modulesToDom(list, options);
  return function update(newList) {
    newList = newList || [];
    for (var i = 0; i < lastIdentifiers.length; i++) {
      var identifier = lastIdentifiers[i];
      var index = getIndexByIdentifier(identifier);
      stylesInDOM[index].references--;
    }
    var newLastIdentifiers = modulesToDom(newList, options);
    for (var _i = 0; _i < lastIdentifiers.length; _i++) {
      var _identifier = lastIdentifiers[_i];
      var _index = getIndexByIdentifier(_identifier);
      if (stylesInDOM[_index].references === 0) {
        stylesInDOM[_index].updater();
        stylesInDOM.splice(_index, 1);
      }
    }
    lastIdentifiers = newLastIdentifiers;
  };
};

},
"./node_modules/style-loader/dist/runtime/insertBySelector.js"(module) {


var memo = {};

/* istanbul ignore next  */
function getTarget(target) {
  if (typeof memo[target] === "undefined") {
    var styleTarget = document.querySelector(target);

    // Special case to return head of iframe instead of iframe itself
    if (window.HTMLIFrameElement && styleTarget instanceof window.HTMLIFrameElement) {
      try {
        // This will throw an exception if access to iframe is blocked
        // due to cross-origin restrictions
        styleTarget = styleTarget.contentDocument.head;
      } catch (e) {
        // istanbul ignore next
        styleTarget = null;
      }
    }
    memo[target] = styleTarget;
  }
  return memo[target];
}

/* istanbul ignore next  */
function insertBySelector(insert, style) {
  var target = getTarget(insert);
  if (!target) {
    throw new Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");
  }
  target.appendChild(style);
}
module.exports = insertBySelector;

},
"./node_modules/style-loader/dist/runtime/insertStyleElement.js"(module) {


/* istanbul ignore next  */
function insertStyleElement(options) {
  var element = document.createElement("style");
  options.setAttributes(element, options.attributes);
  options.insert(element, options.options);
  return element;
}
module.exports = insertStyleElement;

},
"./node_modules/style-loader/dist/runtime/setAttributesWithoutAttributes.js"(module, __unused_rspack_exports, __webpack_require__) {


/* istanbul ignore next  */
function setAttributesWithoutAttributes(styleElement) {
  var nonce =  true ? __webpack_require__.nc : 0;
  if (nonce) {
    styleElement.setAttribute("nonce", nonce);
  }
}
module.exports = setAttributesWithoutAttributes;

},
"./node_modules/style-loader/dist/runtime/styleDomAPI.js"(module) {


/* istanbul ignore next  */
function apply(styleElement, options, obj) {
  var css = "";
  if (obj.supports) {
    css += "@supports (".concat(obj.supports, ") {");
  }
  if (obj.media) {
    css += "@media ".concat(obj.media, " {");
  }
  var needLayer = typeof obj.layer !== "undefined";
  if (needLayer) {
    css += "@layer".concat(obj.layer.length > 0 ? " ".concat(obj.layer) : "", " {");
  }
  css += obj.css;
  if (needLayer) {
    css += "}";
  }
  if (obj.media) {
    css += "}";
  }
  if (obj.supports) {
    css += "}";
  }
  var sourceMap = obj.sourceMap;
  if (sourceMap && typeof btoa !== "undefined") {
    css += "\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(sourceMap)))), " */");
  }

  // For old IE
  /* istanbul ignore if  */
  options.styleTagTransform(css, styleElement, options.options);
}
function removeStyleElement(styleElement) {
  // istanbul ignore if
  if (styleElement.parentNode === null) {
    return false;
  }
  styleElement.parentNode.removeChild(styleElement);
}

/* istanbul ignore next  */
function domAPI(options) {
  if (typeof document === "undefined") {
    return {
      update: function update() {},
      remove: function remove() {}
    };
  }
  var styleElement = options.insertStyleElement(options);
  return {
    update: function update(obj) {
      apply(styleElement, options, obj);
    },
    remove: function remove() {
      removeStyleElement(styleElement);
    }
  };
}
module.exports = domAPI;

},
"./node_modules/style-loader/dist/runtime/styleTagTransform.js"(module) {


/* istanbul ignore next  */
function styleTagTransform(css, styleElement) {
  if (styleElement.styleSheet) {
    styleElement.styleSheet.cssText = css;
  } else {
    while (styleElement.firstChild) {
      styleElement.removeChild(styleElement.firstChild);
    }
    styleElement.appendChild(document.createTextNode(css));
  }
}
module.exports = styleTagTransform;

},
"./style/index.js"(__unused_rspack_module, __webpack_exports__, __webpack_require__) {
__webpack_require__.r(__webpack_exports__);
/* import */ var _base_css__rspack_import_0 = __webpack_require__("./style/base.css");



},

}]);
//# sourceMappingURL=style_index_js.17a85b4663d548ba.js.map