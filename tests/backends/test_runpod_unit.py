"""Narrow unit tests of the RunPod client with httpx.MockTransport: retry decisions,
error mapping, request building, key hygiene. End-to-end behaviour is tested against
`comfydsl serve` over loopback in test_runpod_serve.py.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from comfydsl.backends.runpod import (AsyncRunPodClient, PollPolicy, RequestTooLarge, RetryPolicy, RunPodClient,
                                      build_request, resolve_base_url)
from comfydsl.errors import (AuthenticationError, BackendConnectionError, BackendError, BackendStatusError,
                             CompileError, JobTimedOut)
from comfydsl.workflow.envelopes import RUN_BODY_LIMIT, RUNSYNC_BODY_LIMIT, encode_body

KEY = "rp_test_key_5f0c1d2e9a"

FAST_RETRY = RetryPolicy(attempts=4, base=0.001, cap=0.002)
FAST_POLL = PollPolicy(initial=0.001, maximum=0.002, floor=0.001)


def client_for(handler, **kw) -> RunPodClient:
    transport = httpx.MockTransport(handler)
    return RunPodClient("ep1", KEY, base_url="https://rp.test/v2", client=httpx.Client(transport=transport),
                        retry=kw.pop("retry", FAST_RETRY), poll=kw.pop("poll", FAST_POLL), **kw)


def test_url_auth_and_body(workflow):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "j1", "status": "IN_QUEUE"})

    client = client_for(handler)
    state = client.run(workflow, images={"in.png": b"\x89PNG"}, execution_timeout=60, ttl=3600,
                       low_priority=True, webhook="http://127.0.0.1:9/hook", comfy_org_api_key="comfy-k")
    assert state.id == "j1" and state.status.value == "IN_QUEUE" and not state.is_final
    request = seen[0]
    assert request.method == "POST" and str(request.url) == "https://rp.test/v2/ep1/run"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    assert body["input"]["workflow"] == workflow
    assert body["input"]["images"] == [{"name": "in.png", "image": "iVBORw=="}]
    assert body["input"]["comfy_org_api_key"] == "comfy-k"
    assert body["policy"] == {"executionTimeout": 60000, "ttl": 3600000, "lowPriority": True}
    assert body["webhook"] == "http://127.0.0.1:9/hook"


def test_runpod_envelope_accepted_and_images_count_as_uploads(workflow):
    workflow["3"] = {"class_type": "LoadImage", "inputs": {"image": "face.png"}}
    body = build_request({"input": {"workflow": workflow, "images": [{"name": "face.png", "image": "aGk="}]}})
    assert body["input"]["images"] == [{"name": "face.png", "image": "aGk="}]


def test_check_refuses_errors_before_sending(broken_workflow):
    def handler(request):
        raise AssertionError("nothing may be sent")

    client = client_for(handler)
    with pytest.raises(CompileError) as info:
        client.run(broken_workflow)
    assert any(d.is_error for d in info.value.diagnostics)


def test_check_false_sends_anyway(broken_workflow):
    sent = []
    client = client_for(lambda r: sent.append(r) or httpx.Response(200, json={"id": "x", "status": "IN_QUEUE"}))
    client.run(broken_workflow, check=False)
    assert len(sent) == 1


def test_body_limits():
    big = {"input": {"workflow": {}, "images": [{"name": "a", "image": "A" * (11 * 1024 * 1024)}]}}
    with pytest.raises(RequestTooLarge) as info:
        encode_body(big, "run")
    # RunPod documents "10 MB" and "20 MB"; read as decimal megabytes, the stricter reading
    assert "10 MB" in str(info.value) and info.value.limit == RUN_BODY_LIMIT == 10_000_000
    assert len(encode_body(big, "runsync")) > 10 * 1024 * 1024
    assert RUNSYNC_BODY_LIMIT == 20_000_000
    just_over = {"input": {"workflow": {}, "images": [{"name": "a", "image": "A" * RUN_BODY_LIMIT}]}}
    with pytest.raises(RequestTooLarge):
        encode_body(just_over, "run")
    bigger = {"input": {"images": [{"name": "a", "image": "A" * (21 * 1024 * 1024)}]}}
    with pytest.raises(RequestTooLarge):
        encode_body(bigger, "runsync")


def test_run_is_not_resent_after_5xx(workflow):
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(503, text="upstream unavailable")

    with pytest.raises(BackendStatusError) as info:
        client_for(handler).run(workflow)
    assert len(calls) == 1
    assert info.value.status_code == 503 and "upstream unavailable" in str(info.value)


def test_run_is_not_resent_after_read_error(workflow):
    calls = []

    def handler(request):
        calls.append(request)
        raise httpx.ReadError("connection reset", request=request)

    with pytest.raises(BackendConnectionError) as info:
        client_for(handler).run(workflow)
    assert len(calls) == 1 and "may have reached the server" in str(info.value)


def test_run_retried_on_connect_error_and_429(workflow):
    answers = iter(["connect", 429, 200])

    def handler(request):
        what = next(answers)
        if what == "connect":
            raise httpx.ConnectError("refused", request=request)
        if what == 429:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(200, json={"id": "j2", "status": "IN_QUEUE"})

    retries = []
    client = client_for(handler, on_retry=lambda *a: retries.append(a))
    assert client.run(workflow).id == "j2"
    assert [r[0] for r in retries] == ["run", "run"] and client.requests["run"] == 3


def test_status_retries_5xx_until_bounded():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(502, text="<html>bad gateway</html>")

    with pytest.raises(BackendStatusError) as info:
        client_for(handler).status("j1")
    assert len(calls) == FAST_RETRY.attempts and info.value.status_code == 502
    assert "bad gateway" in str(info.value)


def test_retry_after_is_honoured():
    policy = RetryPolicy(attempts=3, base=5, cap=10, max_retry_after=7)
    assert policy.delay(1, 2.5) == 2.5
    assert policy.delay(1, 100) == 7
    assert 2.5 <= policy.delay(1) <= 5
    assert policy.delay(10) <= 10


def test_401_is_authentication_error_without_the_key():
    def handler(request):
        return httpx.Response(401, text=f"bad key {KEY}")

    with pytest.raises(AuthenticationError) as info:
        client_for(handler).health()
    assert "API key" in str(info.value) and KEY not in str(info.value) and KEY not in repr(info.value)


def test_404_on_status_names_expiry_and_endpoint():
    client = client_for(lambda r: httpx.Response(404, text="not found"))
    with pytest.raises(BackendStatusError) as info:
        client.status("gone-job")
    assert "gone-job" in str(info.value) and "expired" in str(info.value) and "endpoint" in str(info.value)
    with pytest.raises(BackendStatusError) as info:
        client.health()
    assert "endpoint `ep1` not found" in str(info.value)


def test_non_json_success_body_is_a_clear_error():
    with pytest.raises(BackendError) as info:
        client_for(lambda r: httpx.Response(200, text="<html>proxy</html>")).status("j")
    assert "not a JSON object" in str(info.value)


def test_failed_job_with_http_400_is_a_job_state(broken_workflow):
    body = {"id": "j", "status": "FAILED", "error": "boom"}
    result = client_for(lambda r: httpx.Response(400, json=body)).runsync(broken_workflow, check=False)
    assert result.status.value == "FAILED" and result.error == "boom"


def test_runsync_falls_back_to_polling(workflow):
    answers = {"runsync": [{"id": "s1", "status": "IN_PROGRESS"}],
               "status": [{"id": "s1", "status": "IN_PROGRESS"},
                          {"id": "s1", "status": "COMPLETED", "output": {"images": []}, "executionTime": 5}]}

    def handler(request):
        op = request.url.path.split("/")[3]
        if op == "runsync":
            assert request.url.params["wait"] == "2000"
        return httpx.Response(200, json=answers[op].pop(0))

    result = client_for(handler).runsync(workflow, wait=2)
    assert result.ok and result.state.execution_time == 5 and result.no_images


def test_wait_timeout_raises_job_timed_out():
    client = client_for(lambda r: httpx.Response(200, json={"id": "j", "status": "IN_QUEUE"}))
    with pytest.raises(JobTimedOut) as info:
        client.wait("j", timeout=0.01)
    assert "keeps running" in str(info.value) and info.value.status == "IN_QUEUE"


def test_unknown_status_is_a_backend_error():
    with pytest.raises(BackendError) as info:
        client_for(lambda r: httpx.Response(200, json={"id": "j", "status": "EXPLODED"})).status("j")
    assert "status" in str(info.value)


def test_s3_images_are_fetched_without_the_key():
    from comfydsl.backends.results import OutputImage

    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, content=b"PNGDATA")

    data = client_for(handler).image_bytes(OutputImage("a.png", "s3_url", "http://bucket.test/a.png?sig=1"))
    assert data == b"PNGDATA" and "authorization" not in seen[0].headers


def test_key_never_in_repr_or_messages():
    client = client_for(lambda r: httpx.Response(500, text=f"echo Bearer {KEY}"))
    assert KEY not in repr(client) and KEY not in str(vars(client))
    with pytest.raises(BackendStatusError) as info:
        client.cancel("j")
    assert KEY not in str(info.value)


def test_missing_key_and_bad_urls(monkeypatch):
    monkeypatch.delenv("RUNPOD_API_KEY", raising=False)
    with pytest.raises(AuthenticationError):
        RunPodClient("ep")
    monkeypatch.setenv("RUNPOD_API_BASE", "http://127.0.0.1:1/v2/")
    assert resolve_base_url() == "http://127.0.0.1:1/v2"
    assert resolve_base_url("https://x.test/v2") == "https://x.test/v2"
    with pytest.raises(ValueError):
        resolve_base_url("ftp://x")
    with pytest.raises(ValueError):
        client_for(lambda r: httpx.Response(200)).status("../health")


def first_delays(policy, n=4):
    delays = policy.delays()
    return [next(delays) for _ in range(n)]


def test_poll_policy_grows_and_adapts():
    from comfydsl.backends.results import JobState

    policy = PollPolicy(initial=1.0, maximum=5.0, factor=2.0, jitter=0.0)
    assert first_delays(policy) == [1.0, 2.0, 4.0, 5.0]
    policy.observe(0.2)
    assert first_delays(policy, 3) == pytest.approx([0.206, 0.1, 0.2])
    timed = PollPolicy(initial=1.0, jitter=0.0)
    timed.observe(3.0, JobState(id="j", status="COMPLETED", delayTime=100, executionTime=200))
    assert first_delays(timed, 1) == pytest.approx([0.309])
    slow = PollPolicy(jitter=0.0)
    assert first_delays(slow, 4) == pytest.approx([1.0, 1.25, 1.5625, 1.953125])
    slow.observe(30)
    assert first_delays(slow, 3) == pytest.approx([5.0, 1.25, 1.5625])
    jittered = PollPolicy(jitter=0.5)
    assert all(0.5 <= first_delays(jittered, 1)[0] <= 1.5 for _ in range(50))
    jittered.observe(1.0)
    assert all(1.03 <= first_delays(jittered, 1)[0] <= 1.03 * 1.125 for _ in range(50))


def test_async_client_retries_and_parses(workflow):
    answers = iter([429, {"id": "a1", "status": "IN_QUEUE"}, {"id": "a1", "status": "COMPLETED",
                                                                "output": {"images": [{"filename": "x.png",
                                                                                       "type": "base64",
                                                                                       "data": "aGk="}]}}])

    def handler(request):
        answer = next(answers)
        if answer == 429:
            return httpx.Response(429)
        return httpx.Response(200, json=answer)

    async def go():
        transport = httpx.MockTransport(handler)
        async with AsyncRunPodClient("ep1", KEY, base_url="https://rp.test/v2", retry=FAST_RETRY, poll=FAST_POLL,
                                     client=httpx.AsyncClient(transport=transport)) as client:
            job = await client.run(workflow)
            result = await client.wait(job.id)
            return result, await client.image_bytes(result.images[0])

    result, data = asyncio.run(go())
    assert result.ok and data == b"hi"


def test_runpod_body_keeps_its_policy_and_webhook(workflow):
    payload = {"input": {"workflow": workflow}, "policy": {"ttl": 60000}, "webhook": "https://h.test/x"}
    body = build_request(payload)
    assert body["policy"] == {"ttl": 60000} and body["webhook"] == "https://h.test/x"
    body = build_request(payload, ttl=120, webhook="https://h.test/y")
    assert body["policy"] == {"ttl": 120000} and body["webhook"] == "https://h.test/y"
