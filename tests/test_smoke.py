from conftest import parse_sse


async def test_register_run_follow_result(api):
    await api.job("hello", "jobs_lib:write_result")
    reply = await api.post("jobs/hello/runs", {"args": {"rows": 2}, "follow": True})
    assert reply.code == 201
    events = parse_sse(reply.body)
    assert events[-1]["event"] == "close"
    assert events[-1]["data"]["status"] == "succeeded"
