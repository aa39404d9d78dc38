"""Malformed and extreme input over real HTTP: the emulator answers with its JSON errors, never a 500."""

import pytest


@pytest.mark.parametrize("policy", [
    {"deadline": float("inf")},
    {"deadline": "1e400"},
    {"deadline": float("nan")},
    {"overwrite": float("inf")},
    {"fsizeLimit": "-1e999"},
    {"separate": "1e400"},
])
def test_non_finite_policy_numbers_are_a_malformed_token(api, policy):
    token = api.token("b1:nonfinite.txt", **policy)  # json.dumps writes Infinity / NaN
    resp = api.upload(token)
    assert resp.status_code == 401, resp.text
    assert resp.json()["message"].startswith("Token Format Invalid")
    assert "X-Reqid" in resp.headers
    resp = api.session.post(api.url + "/mkblk/5/0", data=b"hello", headers={"Authorization": token})
    assert resp.status_code == 401, resp.text
