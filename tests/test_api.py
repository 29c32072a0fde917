from fastapi.testclient import TestClient

from tests.conftest import NCIC_QUESTION


def test_ask_returns_the_contract_fields(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"question": NCIC_QUESTION})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"answer", "refused", "citations", "timings_ms"}
    assert "60 per cent" in body["answer"] and body["refused"] is False
    citation = body["citations"][0]
    assert set(citation) >= {"n", "document_id", "title", "url", "published", "text", "start", "end", "score"}
    document = client.get(f"/v1/documents/{citation['document_id']}").json()
    assert document["text"][citation["start"] : citation["end"]] == citation["quote"]
    assert body["timings_ms"]["total"] > 0


def test_refusal_over_http(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": "What is the capital of France?"}).json()
    assert body["refused"] is True and body["citations"] == []


def test_bad_questions_get_4xx_json(client: TestClient) -> None:
    cases = [
        ({"question": "   "}, 422, "empty"),
        ({"question": ""}, 422, "empty"),
        ({}, 422, None),
        ({"question": 42}, 422, None),
        ({"question": "x", "top_k": 0}, 422, None),
        ({"question": "x", "unknown": 1}, 422, None),
        ({"question": "x" * 5000}, 422, "limit"),
    ]
    for body, status, word in cases:
        response = client.post("/v1/ask", json=body)
        assert response.status_code == status, body
        payload = response.json()
        assert set(payload) == {"error", "detail"}
        if word:
            assert word in payload["detail"]
    malformed = client.post("/v1/ask", content=b'{"question": ', headers={"content-type": "application/json"})
    assert malformed.status_code == 422 and malformed.json()["error"] == "invalid request"


def test_documents_lifecycle_over_http(client: TestClient) -> None:
    article = {"title": "Harbour deal", "text": "The harbour of Tromsø signed a deal worth 12 million euros with Nordline on Monday.", "published": "2025-02-03", "source": "Wire", "url": "https://news.example/harbour"}
    created = client.post("/v1/documents", json=article)
    assert created.status_code == 201 and created.json()["status"] == "created"
    doc_id = created.json()["id"]
    again = client.post("/v1/documents", json=article)
    assert again.status_code == 200 and again.json() == {**created.json(), "status": "unchanged"}
    ids = [d["id"] for d in client.get("/v1/documents").json()["documents"]]
    assert doc_id in ids and len(ids) == 3
    answer = client.post("/v1/ask", json={"question": "How much is the Nordline deal worth?", "filters": {"source": "Wire"}}).json()
    assert "12 million euros" in answer["answer"] and answer["citations"][0]["published"] == "2025-02-03"
    deleted = client.delete(f"/v1/documents/{doc_id}")
    assert deleted.status_code == 200 and deleted.json()["deleted_chunks"] == 1
    assert client.get(f"/v1/documents/{doc_id}").status_code == 404
    assert client.delete(f"/v1/documents/{doc_id}").json()["error"] == "not found"


def test_file_upload_and_bad_files(client: TestClient) -> None:
    ok = client.post("/v1/documents", files={"file": ("story.txt", b"Title: Mine strike\n\nMiners at Kiruna walked out over pay on Tuesday.")})
    assert ok.status_code == 201 and ok.json()["title"] == "Mine strike"
    before = len(client.get("/v1/documents").json()["documents"])
    for name, data, status in [("x.exe", b"MZ..", 415), ("empty.txt", b"", 422), ("bin.txt", b"\x00\x01\x02", 415), ("ad.txt", b"ADVERTISEMENT\n", 422)]:
        response = client.post("/v1/documents", files={"file": (name, data)})
        assert response.status_code == status, name
        assert response.json()["detail"]
    assert client.post("/v1/documents", files={"other": ("a.txt", b"hi")}).status_code == 422
    assert client.post("/v1/documents", content=b"plain", headers={"content-type": "text/plain"}).status_code == 415
    assert client.post("/v1/documents", content=b"[1,2]", headers={"content-type": "application/json"}).status_code == 422
    assert client.post("/v1/documents", json={"title": "t", "text": "x", "published": "soon"}).status_code == 422
    assert len(client.get("/v1/documents").json()["documents"]) == before


def test_health_and_openapi(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["chunks"] == 11
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/ask", "/v1/documents", "/v1/documents/{document_id}", "/healthz"} <= set(paths)


def test_a_two_part_question_half_answered_names_the_unanswered_part(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": "What stake will NCIC hold and what stake will Tesla hold?"}).json()
    assert body["refused"] is False and "60 per cent" in body["answer"]
    assert body["unanswered"] == ["What stake will Tesla hold?"]
    assert "The articles don't say what stake will Tesla hold." in body["answer"]
    assert client.post("/v1/ask", json={"question": NCIC_QUESTION}).json()["unanswered"] == []
