// The chat page. Every string from the server is put in the page as text (textContent), never as HTML.
"use strict";

const state = { messages: [], documents: new Map(), busy: false };
const $ = (id) => document.getElementById(id);

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function safeUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("; ") : body.detail;
    return `${body.error || response.statusText}${detail ? ": " + detail : ""}`;
  } catch {
    return `the server answered ${response.status}`;
  }
}

// ---- conversation -------------------------------------------------------------------------------------------

function addMessage(role, text) {
  $("empty-hint")?.remove();
  const item = element("li", `message ${role}`);
  item.append(element("span", "label", role === "user" ? "You" : "Answer"));
  const body = element("span", "text", text);
  item.append(body);
  $("conversation").append(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

function renderAnswer(item, answer) {
  const body = item.querySelector(".text");
  body.replaceChildren();
  item.classList.remove("pending");
  const byNumber = new Map(answer.citations.map((c) => [c.n, c]));
  if (answer.short_answer && !answer.refused) {
    body.append(element("strong", "short", answer.short_answer));
  }
  for (const part of answer.answer.split(/(\[\d+\])/)) {
    const marker = part.match(/^\[(\d+)\]$/);
    const citation = marker && byNumber.get(Number(marker[1]));
    if (citation) {
      const chip = element("button", "chip", String(citation.n));
      chip.type = "button";
      chip.setAttribute("aria-pressed", "false");
      chip.setAttribute("aria-label", `Citation ${citation.n}: ${citation.title}`);
      chip.addEventListener("click", () => showCitation(citation, chip));
      body.append(chip);
    } else if (part) {
      body.append(document.createTextNode(part));
    }
  }
  if (answer.refused) {
    item.classList.add("refused");
    item.querySelector(".label").textContent = "Not in the articles";
  }
  if (answer.degraded) {
    item.append(element("span", "note", "The language model was unavailable; this answer was taken directly from the articles."));
  }
}

function renderError(item, message) {
  item.classList.remove("pending");
  item.classList.add("error");
  item.querySelector(".label").textContent = "Something went wrong";
  item.querySelector(".text").textContent = message;
}

async function* serverEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (data.length) yield { name, data: JSON.parse(data.join("\n")) };
    }
  }
}

async function ask(question) {
  state.busy = true;
  $("send").disabled = true;
  addMessage("user", question);
  state.messages.push({ role: "user", content: question });
  const item = addMessage("assistant", "Looking through the articles…");
  item.classList.add("pending");
  item.setAttribute("aria-busy", "true");
  try {
    const response = await fetch("/v1/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ messages: state.messages, stream: true }),
    });
    if (!response.ok) {
      renderError(item, await errorMessage(response));
      state.messages.pop();
      return;
    }
    let streamed = "";
    for await (const event of serverEvents(response)) {
      if (event.name === "delta") {
        streamed += event.data.text;
        item.querySelector(".text").textContent = streamed;
      } else if (event.name === "final") {
        renderAnswer(item, event.data);
        state.messages.push({ role: "assistant", content: event.data.answer });
      } else if (event.name === "error") {
        renderError(item, `${event.data.error}: ${event.data.detail}`);
        state.messages.pop();
      }
    }
  } catch (failure) {
    renderError(item, `The service could not be reached (${failure.message}).`);
    state.messages.pop();
  } finally {
    item.removeAttribute("aria-busy");
    state.busy = false;
    $("send").disabled = false;
  }
}

// ---- the cited article ----------------------------------------------------------------------------------------

async function loadDocument(id) {
  if (!state.documents.has(id)) {
    const response = await fetch(`/v1/documents/${encodeURIComponent(id)}`);
    if (!response.ok) throw new Error(await errorMessage(response));
    state.documents.set(id, await response.json());
  }
  return state.documents.get(id);
}

function around(text, start, end) {
  // The cited sentence with about two sentences either side, cut at sentence ends where possible.
  let from = Math.max(0, start - 450);
  let to = Math.min(text.length, end + 450);
  const before = text.slice(from, start);
  const stop = before.search(/[.!?\n]\s+\S/);
  if (from > 0 && stop >= 0) from += stop + 1;
  const after = text.slice(end, to);
  const lastStop = Math.max(after.lastIndexOf(". "), after.lastIndexOf("\n"));
  if (to < text.length && lastStop >= 0) to = end + lastStop + 1;
  return [from, to];
}

async function showCitation(citation, chip) {
  document.querySelectorAll('.chip[aria-pressed="true"]').forEach((c) => c.setAttribute("aria-pressed", "false"));
  chip.setAttribute("aria-pressed", "true");
  const panel = $("citation-panel");
  $("documents-panel").hidden = true;
  panel.hidden = false;
  $("citation-title").textContent = citation.title;
  $("citation-meta").textContent = [citation.source, citation.published].filter(Boolean).join(" · ");
  const linkRow = $("citation-link-row");
  linkRow.replaceChildren();
  const href = citation.url && safeUrl(citation.url);
  if (href) {
    const link = element("a", "", "Open the original article");
    link.href = href;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    linkRow.append(link);
  }
  const context = $("citation-context");
  context.replaceChildren(document.createTextNode("Loading…"));
  try {
    const documentBody = await loadDocument(citation.document_id);
    const [from, to] = around(documentBody.text, citation.start, citation.end);
    const mark = element("mark", "", documentBody.text.slice(citation.start, citation.end));
    context.replaceChildren(
      document.createTextNode((from > 0 ? "… " : "") + documentBody.text.slice(from, citation.start)),
      mark,
      document.createTextNode(documentBody.text.slice(citation.end, to) + (to < documentBody.text.length ? " …" : "")),
    );
    mark.scrollIntoView({ block: "center" });
  } catch (failure) {
    context.textContent = `The article could not be loaded: ${failure.message}`;
  }
}

// ---- documents --------------------------------------------------------------------------------------------------

function setStatus(text, isError = false) {
  const status = $("documents-status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

async function refreshDocuments() {
  const response = await fetch("/v1/documents");
  if (!response.ok) return setStatus(await errorMessage(response), true);
  const { documents } = await response.json();
  const list = $("documents-list");
  list.replaceChildren();
  for (const doc of documents) {
    const item = element("li");
    const title = element("span", "doc-title", doc.title);
    const remove = element("button", "secondary", "Delete");
    remove.type = "button";
    remove.setAttribute("aria-label", `Delete “${doc.title}”`);
    remove.addEventListener("click", () => deleteDocument(doc));
    item.append(title, remove);
    list.append(item);
  }
  if (!documents.length) list.append(element("li", "", "No articles yet: add one below."));
}

async function deleteDocument(doc) {
  if (!window.confirm(`Delete “${doc.title}”?`)) return;
  const response = await fetch(`/v1/documents/${encodeURIComponent(doc.id)}`, { method: "DELETE" });
  if (!response.ok) return setStatus(await errorMessage(response), true);
  state.documents.delete(doc.id);
  setStatus(`Deleted “${doc.title}”.`);
  await refreshDocuments();
}

async function addDocument(request, form) {
  setStatus("Adding…");
  const response = await fetch("/v1/documents", request);
  if (!response.ok) return setStatus(await errorMessage(response), true);
  const result = await response.json();
  setStatus(`${result.status === "unchanged" ? "Already stored" : "Added"}: “${result.title}” (${result.chunks} passages).`);
  form.reset();
  await refreshDocuments();
}

// ---- wiring -----------------------------------------------------------------------------------------------------

function togglePanel(open) {
  const panel = $("documents-panel");
  panel.hidden = !open;
  $("documents-toggle").setAttribute("aria-expanded", String(open));
  if (open) {
    $("citation-panel").hidden = true;
    refreshDocuments();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const input = $("question");
  $("ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question || state.busy) return;
    input.value = "";
    ask(question);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("ask-form").requestSubmit();
    }
  });
  $("new-chat").addEventListener("click", () => {
    state.messages = [];
    $("conversation").replaceChildren();
    input.focus();
  });
  $("citation-close").addEventListener("click", () => { $("citation-panel").hidden = true; });
  $("documents-toggle").addEventListener("click", () => togglePanel($("documents-panel").hidden));
  $("documents-close").addEventListener("click", () => togglePanel(false));
  $("paste-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    const field = (name) => form.elements.namedItem(name).value;
    const body = { title: field("title"), text: field("text") };
    if (field("url")) body.url = field("url");
    addDocument({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }, form);
  });
  $("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    addDocument({ method: "POST", body: new FormData(form) }, form);
  });
  input.focus();
});
