// ragtune web page: ask one arm (streamed) or all arms (batched on the server), see the
// answers side by side with their citations, manage documents. Plain JS, no build step.
// Every piece of server text goes into the page through textContent, never innerHTML.
"use strict";

const $ = (selector) => document.querySelector(selector);
const KEY_STORAGE = "ragtune.apiKey";
const state = { models: [], documents: [] };

// -- HTTP ------------------------------------------------------------------------------
function headers(extra = {}) {
  const key = localStorage.getItem(KEY_STORAGE);
  return key ? { Authorization: `Bearer ${key}`, ...extra } : extra;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers || {}) });
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const message = body && body.error ? body.error.message : `HTTP ${response.status}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function toast(message, kind = "info") {
  const node = el("div", { class: `toast ${kind}`, text: message });
  $("#toasts").append(node);
  setTimeout(() => node.remove(), kind === "error" ? 7000 : 3500);
}

// -- status, models, documents ---------------------------------------------------------
async function loadModels() {
  try {
    const models = await api("/v1/models");
    state.models = models.data.map((m) => m.id);
    const select = $("#arm");
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "__all__", text: `Compare all arms (${state.models.length})` }));
    for (const id of state.models) select.append(el("option", { value: id, text: id }));
    if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
    setStatus(true);
  } catch (error) {
    setStatus(false, error);
  }
}

function setStatus(ok, error) {
  const pill = $("#status");
  pill.classList.toggle("bad", !ok);
  if (ok) {
    pill.textContent = `${state.documents.length} documents · ${state.models.length} arms`;
  } else {
    pill.textContent = error && error.status === 401 ? "API key needed" : "server unreachable";
    if (error && error.status === 401) $("#key-panel").hidden = false;
  }
}

async function loadDocuments(fresh = []) {
  try {
    const docs = await api("/v1/documents");
    state.documents = docs.data;
    renderDocuments(new Set(fresh));
    setStatus(true);
  } catch (error) {
    setStatus(false, error);
  }
}

function renderDocuments(fresh = new Set()) {
  const filter = $("#doc-filter").value.trim().toLowerCase();
  const list = $("#doc-list");
  list.replaceChildren();
  const shown = state.documents.filter(
    (d) => !filter || d.id.toLowerCase().includes(filter) || (d.title || "").toLowerCase().includes(filter));
  for (const doc of shown) {
    const item = el("li", { "data-id": doc.id, class: fresh.has(doc.id) ? "fresh" : "", title: doc.source || doc.id },
      el("span", { class: "doc-name", text: doc.title && doc.title !== doc.id ? `${doc.id} — ${doc.title}` : doc.id }),
      el("span", { class: "doc-chunks", text: `${doc.n_chunks} ch` }),
      el("button", {
        class: "icon-button delete-doc", type: "button", title: `Delete ${doc.id}`, text: "✕",
        onclick: () => deleteDocument(doc.id),
      }));
    list.append(item);
  }
  $("#doc-count").textContent = state.documents.length ? `(${state.documents.length})` : "";
}

async function deleteDocument(id) {
  if (!confirm(`Delete “${id}” from the knowledge base?`)) return;
  try {
    await api(`/v1/documents/${id.split("/").map(encodeURIComponent).join("/")}`, { method: "DELETE" });
    toast(`Deleted ${id}. Ask again to see the difference.`);
    await loadDocuments();
  } catch (error) {
    toast(`Delete failed: ${error.message}`, "error");
    if (error.status === 401 || error.status === 403) $("#key-panel").hidden = false;
  }
}

async function upload(event) {
  event.preventDefault();
  const files = $("#file-input").files;
  if (!files.length) { toast("Choose a file first.", "error"); return; }
  const form = new FormData();
  for (const file of files) form.append("files", file, file.name);
  const button = $("#upload");
  button.disabled = true;
  button.textContent = "Uploading…";
  try {
    const report = await api("/v1/documents", { method: "POST", body: form });
    toast(`Indexed ${report.ids.join(", ")} (${report.added} new, ${report.updated} updated). Ask again!`);
    $("#file-input").value = "";
    $("#file-names").textContent = "";
    await loadDocuments(report.ids);
  } catch (error) {
    toast(`Upload failed: ${error.message}`, "error");
    if (error.status === 401 || error.status === 403) $("#key-panel").hidden = false;
  } finally {
    button.disabled = false;
    button.textContent = "Upload";
  }
}

async function addText(event) {
  event.preventDefault();
  const id = $("#text-id").value.trim();
  const text = $("#text-body").value;
  try {
    const report = await api("/v1/documents", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ documents: [{ id, text }] }),
    });
    toast(`Indexed ${id}.`);
    $("#text-form").reset();
    await loadDocuments(report.ids);
  } catch (error) {
    toast(`Add failed: ${error.message}`, "error");
  }
}

// -- asking ----------------------------------------------------------------------------
function answerCard(arm) {
  const card = el("article", { class: "card answer-card pending", "data-arm": arm },
    el("div", { class: "answer-head" },
      el("span", { class: "arm-badge", text: arm }),
      el("span", { class: "answer-stats", text: "thinking…" })),
    el("div", { class: "answer-text" }),
    el("div", { class: "citations" }));
  $("#answers").append(card);
  return card;
}

function fillCard(card, completion, seconds) {
  const message = completion.choices[0].message || {};
  const extra = completion.ragtune || {};
  card.classList.remove("pending");
  if (message.content !== undefined) card.querySelector(".answer-text").textContent = message.content;
  const usage = completion.usage || {};
  const stats = [`${seconds.toFixed(2)} s`];
  if (usage.completion_tokens != null) stats.push(`${usage.completion_tokens} tok`);
  card.querySelector(".answer-stats").textContent = stats.join(" · ");
  const citations = completion.citations || message.citations || [];
  const box = card.querySelector(".citations");
  box.replaceChildren();
  for (const citation of citations) {
    box.append(el("button", {
      class: "citation", type: "button", "data-doc": citation.doc_id, title: `${citation.doc_id} · click to read`,
      onclick: () => showChunk(citation),
    }, el("b", { text: `[${citation.marker}]` }), citation.doc_id));
  }
  if (!citations.length) {
    box.append(el("span", { class: "no-citations", text: extra.hits && extra.hits.length ? "no citation" : "closed book · no sources" }));
  }
  if (extra.hits && extra.hits.length) {
    const list = el("ol");
    extra.hits.forEach((hit, i) => list.append(el("li", {
      text: `${hit.doc_id}${hit.title ? " — " + hit.title : ""}`, onclick: () => showChunk({ ...hit, marker: i + 1 }),
    })));
    card.append(el("details", { class: "passages" }, el("summary", { text: `${extra.hits.length} passages retrieved` }), list));
  }
}

function failCard(card, error) {
  card.classList.remove("pending");
  card.classList.add("failed");
  card.querySelector(".answer-text").textContent = error.message;
  card.querySelector(".answer-stats").textContent = error.status ? `HTTP ${error.status}` : "error";
}

function request(arm, question, stream) {
  return { model: arm, stream, messages: [{ role: "user", content: question }] };
}

async function askOne(arm, question, card) {
  const started = performance.now();
  const response = await fetch("/v1/chat/completions", {
    method: "POST", headers: headers({ "Content-Type": "application/json" }),
    body: JSON.stringify(request(arm, question, true)),
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    const error = new Error(body.error ? body.error.message : `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  // Server-sent events: "data: {chat.completion.chunk}\n\n" ... "data: [DONE]".
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const text = card.querySelector(".answer-text");
  let buffer = "";
  let last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const line = buffer.slice(0, cut).trim();
      buffer = buffer.slice(cut + 2);
      if (!line.startsWith("data:")) continue;
      const data = line.slice(5).trim();
      if (data === "[DONE]") continue;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(chunk.error.message);
      if (!chunk.choices || !chunk.choices.length) continue;
      const delta = chunk.choices[0].delta || {};
      if (delta.content) text.textContent += delta.content;
      if (chunk.choices[0].finish_reason) last = chunk;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  fillCard(card, { ...(last || {}), choices: [{ message: {} }], usage: null, citations: last ? last.citations : [],
                   ragtune: last ? last.ragtune : {} }, seconds);
}

async function askAll(arms, question) {
  // One plain request per arm, all at once: the server batches them onto the model.
  await Promise.all(arms.map(async (arm) => {
    const card = answerCard(arm);
    const started = performance.now();
    try {
      const completion = await api("/v1/chat/completions", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(request(arm, question, false)),
      });
      fillCard(card, completion, (performance.now() - started) / 1000);
    } catch (error) {
      failCard(card, error);
    }
  }));
}

async function ask(event) {
  event.preventDefault();
  const question = $("#question").value.trim();
  if (!question) return;
  const choice = $("#arm").value;
  const button = $("#ask");
  button.disabled = true;
  $("#empty-state").hidden = true;
  $("#answers").replaceChildren();
  try {
    if (choice === "__all__") {
      await askAll(state.models, question);
    } else {
      const card = answerCard(choice);
      try { await askOne(choice, question, card); } catch (error) { failCard(card, error); }
    }
  } finally {
    button.disabled = false;
    document.body.dataset.answered = String(Number(document.body.dataset.answered || 0) + 1);
  }
}

// -- the cited passage -------------------------------------------------------------------
async function showChunk(citation) {
  $("#chunk-title").textContent = `[${citation.marker}] ${citation.title || citation.doc_id}`;
  const where = `${citation.doc_id} · characters ${citation.start_char}–${citation.end_char}`;
  $("#chunk-meta").textContent = citation.source ? `${where} · ${citation.source}` : where;
  let text = citation.text;
  if (text == null) {  // no chunk text in the answer: cut it from the document
    try {
      const doc = await api(`/v1/documents/${citation.doc_id.split("/").map(encodeURIComponent).join("/")}`);
      text = doc.text.slice(citation.start_char, citation.end_char);
    } catch (error) {
      text = `(could not load the passage: ${error.message})`;
    }
  }
  $("#chunk-text").textContent = text;
  $("#chunk-modal").hidden = false;
}

function closeModal() { $("#chunk-modal").hidden = true; }

// -- report ----------------------------------------------------------------------------
async function openReport(event) {
  if (!localStorage.getItem(KEY_STORAGE)) return;  // no key: the plain link works
  // With a key, a link cannot send it: fetch the report and write it into a new tab
  // (about:blank keeps this page's origin, so the report's relative links still work).
  event.preventDefault();
  const tab = window.open("", "_blank");
  let html;
  try {
    const response = await fetch("/report", { headers: headers({ Accept: "text/html" }) });
    html = await response.text();
  } catch (error) {
    html = `<p>Could not load the report: ${String(error.message).replace(/</g, "&lt;")}</p>`;
  }
  if (!tab) { toast("Allow pop-ups to open the report.", "error"); return; }
  tab.document.open();
  tab.document.write(html);
  tab.document.close();
}

// -- wiring ----------------------------------------------------------------------------
function init() {
  $("#ask-form").addEventListener("submit", ask);
  $("#question").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("#ask-form").requestSubmit();
  });
  $("#upload-form").addEventListener("submit", upload);
  $("#text-form").addEventListener("submit", addText);
  $("#refresh-docs").addEventListener("click", () => loadDocuments());
  $("#doc-filter").addEventListener("input", () => renderDocuments());
  $("#file-input").addEventListener("change", () => {
    $("#file-names").textContent = [...$("#file-input").files].map((f) => f.name).join(", ");
  });
  const zone = $(".dropzone");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    $("#file-input").files = e.dataTransfer.files;
    $("#file-input").dispatchEvent(new Event("change"));
  });
  document.querySelectorAll("[data-close]").forEach((node) => node.addEventListener("click", closeModal));
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeModal(); });
  $("#key-button").addEventListener("click", () => { $("#key-panel").hidden = !$("#key-panel").hidden; });
  $("#api-key").value = localStorage.getItem(KEY_STORAGE) || "";
  $("#key-save").addEventListener("click", () => {
    const key = $("#api-key").value.trim();
    if (key) localStorage.setItem(KEY_STORAGE, key); else localStorage.removeItem(KEY_STORAGE);
    $("#key-panel").hidden = true;
    toast(key ? "Key saved in this browser." : "Key removed.");
    refresh();
  });
  $("#report-link").addEventListener("click", openReport);
  refresh();
}

async function refresh() {
  await loadDocuments();
  await loadModels();
  document.body.dataset.ready = "true";
}

init();
