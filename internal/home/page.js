"use strict";
// Posts the form to Translate and shows the google.rpc.Status it answers.
(() => {
  const form = document.getElementById("translate-form");
  const result = document.getElementById("result");
  const codeNames = form.dataset.grpcCodes.split(" ");

  const el = (tag, text, className) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (className) e.className = className;
    return e;
  };
  const pair = (dl, term, id, value, className) => {
    const dd = el("dd", undefined, className);
    dd.id = id;
    if (value instanceof Node) dd.append(value); else dd.textContent = value;
    dl.append(el("dt", term), dd);
  };

  // request returns the TranslateRequest of the form, in protojson.
  const request = () => {
    const req = { body: form.elements.body.value };
    const httpStatus = form.elements.httpStatus.value.trim();
    if (httpStatus !== "") req.httpStatus = Number(httpStatus);
    const retryAfter = form.elements.retryAfter.value.trim();
    if (retryAfter !== "") req.retryAfter = retryAfter;
    return req;
  };

  // show renders one answer of Translate: a TranslateResponse when ok, else
  // the google.rpc.Status of the refused request.
  const show = (res, data, text) => {
    const status = res.ok ? data.status : data;
    const code = status.code ?? 0;
    const info = (status.details ?? []).find((d) => d["@type"].endsWith("/google.rpc.ErrorInfo"));
    const heading = el("h3", res.ok ? "The translation" : "The request was refused");
    const answer = el("p", `POST ${form.dataset.action} answered HTTP ${res.status}.`, "hint");
    answer.id = "result-http";
    const dl = el("dl");
    pair(dl, "gRPC code", "result-code", `${codeNames[code] ?? "code"} (${code})`, "mono");
    pair(dl, "Message", "result-message", status.message || "(none)");
    pair(dl, "Reason", "result-reason", info ? info.reason : "(no ErrorInfo)", "mono");
    if (info) pair(dl, "Domain", "result-domain", info.domain, "mono");
    if (res.ok && data.entry) {
      const link = el("a", `TMDB code ${data.entry.code}`);
      link.href = `#${data.entry.code}`;
      pair(dl, "Table entry", "result-entry", link);
    }
    const details = el("ol", undefined, "details");
    details.id = "result-details";
    for (const d of status.details ?? []) {
      const { "@type": type, ...fields } = d;
      const li = el("li");
      li.dataset.type = type.replace(/^.*\//, "");
      li.append(el("h4", li.dataset.type), el("pre", JSON.stringify(fields, null, 2)));
      details.append(li);
    }
    const raw = el("details");
    raw.append(el("summary", "The whole answer"), el("pre", text));
    result.replaceChildren(heading, answer, dl, el("h4", `Details (${details.children.length})`), details, raw);
    result.className = code === 0 ? "result ok" : "result error";
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.hidden = false;
    result.setAttribute("aria-busy", "true");
    try {
      const res = await fetch(form.dataset.action, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify(request()),
      });
      const text = await res.text();
      let data;
      try { data = JSON.parse(text); } catch { data = null; }
      if (data === null || typeof data !== "object") {
        result.replaceChildren(el("h3", "No JSON answer"), el("pre", `HTTP ${res.status}\n${text}`));
        result.className = "result error";
        return;
      }
      show(res, data, text);
    } catch (err) {
      result.replaceChildren(el("h3", "The request failed"), el("p", String(err)));
      result.className = "result error";
    } finally {
      result.removeAttribute("aria-busy");
    }
  });
})();
