// The encounter review screen: note with evidence, suggestions with their
// logic and decisions, keyboard shortcuts, and the E/M, ICD-11, claim and
// audit-packet tabs.

import * as api from "./api.js";
import { h, replace, pct, words, badge, isTyping, $ } from "./dom.js";
import { showError, clearError, announce } from "./messages.js";
import { renderNote, highlight } from "./note.js";
import { renderEm } from "./em.js";
import { icd11Of, renderIcd11Inline, renderIcd11Tab } from "./icd11.js";
import { renderClaimTab, renderPacketTab } from "./claim.js";

const FALLBACK_REASONS = [
  "not_documented",
  "negated",
  "uncertain",
  "historical_only",
  "family_history",
  "wrong_code",
  "wrong_specificity",
  "duplicate",
  "guideline_conflict",
  "not_billable",
  "other",
];

let reasonsCache = null;

async function rejectReasons() {
  if (reasonsCache) return reasonsCache;
  try {
    const r = await api.get("/api/v1/reject-reasons");
    const list = Array.isArray(r) ? r : Array.isArray(r?.reasons) ? r.reasons : [];
    reasonsCache = list
      .map((x) =>
        typeof x === "string"
          ? { value: x, label: words(x) }
          : {
              value: x.reason || x.id || x.name || x.value || x.code,
              label: x.label || x.description || x.title || words(x.reason || x.id || x.name || x.value || x.code),
              needsComment: Boolean(x.needs_comment),
            },
      )
      .filter((x) => x.value);
    if (!reasonsCache.length) throw new Error("empty");
  } catch (e) {
    if (e && e.status === 401) throw e;
    reasonsCache = FALLBACK_REASONS.map((v) => ({ value: v, label: words(v), needsComment: v === "other" }));
  }
  return reasonsCache;
}

const TABS = [
  ["codes", "Codes"],
  ["em", "E/M"],
  ["icd11", "ICD-11"],
  ["claim", "Claim"],
  ["packet", "Audit packet"],
];

export async function renderEncounter(root, idParam) {
  const id = encodeURIComponent(idParam);
  const [enc, reasons] = await Promise.all([api.get(`/api/v1/encounters/${id}`), rejectReasons()]);
  document.title = `Encounter ${enc.encounter} · medledger`;
  const state = {
    enc,
    sel: enc.suggestions.length ? 0 : -1,
    form: null, // {sid, kind: "reject"|"edit"}
    tab: "codes",
    loaded: {},
    busy: false,
  };

  // ---- layout -------------------------------------------------------------
  const statusSlot = h("span", { id: "enc-status" });
  const pendingSlot = h("span", { id: "enc-pending" });
  const finaliseBtn = h("button", { type: "button", class: "btn btn-primary", id: "finalise", "aria-keyshortcuts": "f" }, "Finalise");
  const helpBtn = h("button", { type: "button", class: "btn", id: "help-open", "aria-keyshortcuts": "?", "aria-haspopup": "dialog" }, "Keyboard shortcuts (?)");
  const head = h(
    "div",
    { class: "page-head encounter-head" },
    h(
      "div",
      {},
      h("h1", { id: "enc-title" }, `Encounter #${enc.encounter}`),
      h(
        "dl",
        { class: "meta" },
        meta("Patient", `${enc.patient_name} (#${enc.patient_id})`),
        meta("Born", enc.patient_dob),
        enc.patient_sex ? meta("Sex", enc.patient_sex) : null,
        meta("Service date", enc.dos),
        meta("Setting", words(enc.setting)),
        meta("Payer", enc.payer || "—"),
        meta("Status", statusSlot),
        meta("Pending reviews", pendingSlot),
      ),
    ),
    h("div", { class: "head-actions" }, helpBtn, finaliseBtn),
  );

  const reasonsBox = h("div", { id: "review-reasons" });
  const noteEl = h("div", { class: "note", id: "note", "aria-describedby": "note-help" });
  const notePane = h(
    "section",
    { class: "pane note-pane", "aria-labelledby": "note-title" },
    h("h2", { id: "note-title" }, "Clinical note"),
    h("p", { class: "hint", id: "note-help" }, "Highlighted text is evidence; select it (click or Enter) to select its codes."),
    noteEl,
  );

  const tabList = h("div", { role: "tablist", "aria-label": "Encounter sections", class: "tabs" });
  const panels = {};
  const tabButtons = {};
  for (const [key, label] of TABS) {
    tabButtons[key] = h(
      "button",
      {
        type: "button",
        role: "tab",
        id: `tab-${key}`,
        "aria-controls": `panel-${key}`,
        "aria-selected": key === state.tab ? "true" : "false",
        tabindex: key === state.tab ? "0" : "-1",
        dataset: { tab: key },
        onclick: () => selectTab(key, true),
      },
      label,
    );
    tabList.append(tabButtons[key]);
    panels[key] = h("div", { role: "tabpanel", id: `panel-${key}`, "aria-labelledby": `tab-${key}`, class: "panel", tabindex: "0", hidden: key !== state.tab });
  }
  tabList.addEventListener("keydown", (ev) => {
    const keys = TABS.map(([k]) => k);
    const i = keys.indexOf(state.tab);
    let j = null;
    if (ev.key === "ArrowRight") j = (i + 1) % keys.length;
    else if (ev.key === "ArrowLeft") j = (i - 1 + keys.length) % keys.length;
    else if (ev.key === "Home") j = 0;
    else if (ev.key === "End") j = keys.length - 1;
    if (j === null) return;
    ev.preventDefault();
    selectTab(keys[j], true);
  });
  const workPane = h("section", { class: "pane work-pane", "aria-label": "Codes and claim" }, tabList, ...Object.values(panels));

  replace(root, head, reasonsBox, h("div", { class: "review-grid" }, notePane, workPane));

  // ---- codes tab --------------------------------------------------------------
  const listEl = h("ol", { class: "suggestions", id: "suggestions", "aria-label": "Suggested codes" });
  const logicEl = h("section", { class: "logic", id: "logic", "aria-labelledby": "logic-title" });
  const finalEl = h("section", { class: "final-codes", id: "final-codes", "aria-labelledby": "final-title" });
  replace(panels.codes, h("h2", { class: "visually-hidden" }, "Codes"), listEl, logicEl, finalEl);

  renderNote(noteEl, enc.note, enc.suggestions);

  function sugg(i = state.sel) {
    return state.enc.suggestions[i] || null;
  }

  function drawHeader() {
    const e = state.enc;
    replace(statusSlot, badge(e.status));
    const pending = e.suggestions.filter((s) => s.requires_review && s.status === "pending").length;
    pendingSlot.textContent = String(pending);
    const done = e.status === "finalised";
    finaliseBtn.disabled = done;
    finaliseBtn.textContent = done ? "Finalised" : "Finalise";
    const rr = e.review_reasons || [];
    replace(
      reasonsBox,
      rr.length
        ? h(
            "details",
            { class: "reasons-box" },
            h("summary", {}, `Why this encounter needs review (${rr.length})`),
            h("ul", {}, rr.map((r) => h("li", {}, h("strong", {}, words(r.rule)), r.suggestion !== null && r.suggestion !== undefined && e.suggestions[r.suggestion] ? ` (${e.suggestions[r.suggestion].code})` : "", `: ${r.message}`))),
            e.runs && e.runs.length
              ? h("p", { class: "hint" }, "Coding run: ", e.runs.map((r) => `${r.engine_version}${r.model_version ? `, model ${r.model_version}` : ""}; code sets ${(r.codesets || []).join(", ")}`).join(" | "))
              : null,
          )
        : null,
    );
  }

  function drawList() {
    const e = state.enc;
    if (!e.suggestions.length) {
      replace(listEl, h("li", { class: "empty" }, "The engine suggested no codes for this note."));
      return;
    }
    replace(
      listEl,
      e.suggestions.map((s, i) => {
        const selected = i === state.sel;
        const final = e.status === "finalised";
        const last = s.decisions && s.decisions.length ? s.decisions[s.decisions.length - 1] : null;
        const item = h(
          "li",
          { class: `suggestion${selected ? " selected" : ""} status-${s.status}`, id: `sugg-${s.id}`, dataset: { sid: s.id, code: s.code } },
          h(
            "div",
            { class: "sugg-main" },
            h(
              "button",
              {
                type: "button",
                class: "code-btn",
                id: `code-${s.id}`,
                "aria-pressed": selected ? "true" : "false",
                "aria-describedby": `desc-${s.id}`,
                onclick: () => select(i, { focus: false, scroll: true }),
              },
              h("span", { class: "code" }, s.code),
              h("span", { class: "system" }, ` ${systemLabel(s.system)}`),
            ),
            h("span", { class: "descriptor", id: `desc-${s.id}` }, s.descriptor),
          ),
          h(
            "div",
            { class: "sugg-meta" },
            h("span", { class: "conf", title: "Engine confidence" }, h("span", { class: "visually-hidden" }, "Confidence "), pct(s.confidence)),
            h("span", { class: "sugg-status", dataset: { status: s.status } }, badge(s.status)),
            s.requires_review ? h("span", { class: "badge badge-required" }, "review required") : null,
            (s.flags || []).map((f) => h("span", { class: "chip" }, words(f))),
            last && last.action === "edit" && last.new_code ? h("span", { class: "chip chip-edit" }, `→ ${last.new_code}`) : null,
            last && last.action === "reject" && last.reason ? h("span", { class: "chip" }, `reason: ${words(last.reason)}`) : null,
          ),
          renderIcd11Inline(s),
          final
            ? null
            : h(
                "div",
                { class: "sugg-actions", role: "group", "aria-label": `Decide ${s.code}` },
                h("button", { type: "button", class: "btn btn-accept", dataset: { act: "accept" }, "aria-label": `Accept ${s.code}`, "aria-keyshortcuts": "a", disabled: state.busy, onclick: () => decide(i, { action: "accept" }) }, "Accept"),
                h("button", { type: "button", class: "btn btn-reject", dataset: { act: "reject" }, "aria-label": `Reject ${s.code}`, "aria-keyshortcuts": "r", "aria-expanded": state.form?.sid === s.id && state.form.kind === "reject" ? "true" : "false", disabled: state.busy, onclick: () => openForm(i, "reject") }, "Reject…"),
                h("button", { type: "button", class: "btn", dataset: { act: "edit" }, "aria-label": `Edit ${s.code}`, "aria-keyshortcuts": "e", "aria-expanded": state.form?.sid === s.id && state.form.kind === "edit" ? "true" : "false", disabled: state.busy, onclick: () => openForm(i, "edit") }, "Edit…"),
              ),
          state.form && state.form.sid === s.id ? decisionForm(i, s, state.form.kind) : null,
        );
        item.addEventListener("click", (ev) => {
          if (ev.target.closest("button, input, select, textarea, form, a")) return;
          select(i, { focus: true, scroll: true });
        });
        return item;
      }),
    );
  }

  function decisionForm(i, s, kind) {
    const fid = `${kind}-${s.id}`;
    const comment = h("input", { id: `${fid}-comment`, name: "comment", autocomplete: "off", maxlength: "2000" });
    let first;
    let body;
    if (kind === "reject") {
      first = h(
        "select",
        { id: `${fid}-reason`, name: "reason", required: true },
        h("option", { value: "" }, "Choose a reason…"),
        reasons.map((r) => h("option", { value: r.value, dataset: { needsComment: r.needsComment ? "1" : "" } }, r.label, r.needsComment ? " (comment required)" : "")),
      );
      body = [field(`${fid}-reason`, "Reason", first), field(`${fid}-comment`, "Comment (optional)", comment)];
    } else {
      first = h("input", { id: `${fid}-code`, name: "code", required: true, autocomplete: "off", spellcheck: "false", value: "", placeholder: s.code, "aria-describedby": `${fid}-code-hint` });
      body = [field(`${fid}-code`, "New code", first, `Replaces ${s.code}, e.g. E11.9`, `${fid}-code-hint`), field(`${fid}-comment`, "Comment (optional)", comment)];
    }
    const form = h(
      "form",
      { class: `decision-form form-${kind}`, id: `${fid}-form`, "aria-label": `${kind === "reject" ? "Reject" : "Edit"} ${s.code}`, novalidate: true },
      body,
      h(
        "div",
        { class: "form-actions" },
        h("button", { type: "submit", class: `btn ${kind === "reject" ? "btn-reject" : "btn-primary"}`, id: `${fid}-submit` }, kind === "reject" ? `Reject ${s.code}` : "Save edit"),
        h("button", { type: "button", class: "btn btn-quiet", id: `${fid}-cancel`, onclick: () => closeForm(true) }, "Cancel"),
      ),
    );
    form.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        ev.preventDefault();
        ev.stopPropagation();
        closeForm(true);
      } else if (ev.key === "Enter" && ev.target.tagName === "SELECT") {
        ev.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const c = comment.value.trim();
      if (kind === "reject") {
        if (!first.value) {
          showError({ problem: { title: "Choose a reason", detail: `Rejecting ${s.code} needs a reason.` } });
          first.focus();
          return;
        }
        const opt = first.selectedOptions[0];
        if (opt && opt.dataset.needsComment && !c) {
          showError({ problem: { title: "Add a comment", detail: `The reason “${opt.textContent}” needs a comment.` } });
          comment.focus();
          return;
        }
        decide(i, { action: "reject", reason: first.value, ...(c ? { comment: c } : {}) });
      } else {
        const code = first.value.trim().toUpperCase();
        if (!code) {
          showError({ problem: { title: "Enter a code", detail: `Editing ${s.code} needs the new code.` } });
          first.focus();
          return;
        }
        decide(i, { action: "edit", code, ...(c ? { comment: c } : {}) });
      }
    });
    queueMicrotask(() => first.focus());
    return form;
  }

  function openForm(i, kind) {
    if (state.enc.status === "finalised") return;
    state.sel = i;
    state.form = { sid: sugg(i).id, kind };
    drawList();
    syncSelection({ scroll: true });
  }

  function closeForm(refocus) {
    const s = state.form ? state.enc.suggestions.find((x) => x.id === state.form.sid) : null;
    state.form = null;
    drawList();
    syncSelection({});
    if (refocus && s) $(`#code-${s.id}`)?.focus();
  }

  function drawLogic() {
    const s = sugg();
    if (!s) {
      replace(logicEl, h("h3", { id: "logic-title" }, "Why this code"), h("p", {}, "Select a code to see its evidence and logic."));
      return;
    }
    const L = s.logic && typeof s.logic === "object" ? s.logic : {};
    const known = new Set(["rule", "source", "matched_term", "index_path", "guideline", "steps", "icd11"]);
    const extra = Object.entries(L).filter(([k]) => !known.has(k));
    const i11 = icd11Of(s);
    replace(
      logicEl,
      h("h3", { id: "logic-title" }, `Why ${s.code}`),
      h(
        "dl",
        { class: "kv" },
        kv("Code", `${s.code} — ${s.descriptor}`),
        kv("Confidence", pct(s.confidence, 1)),
        kv("Matched term", h("span", { class: "matched-term", id: "logic-matched-term" }, L.matched_term || "—")),
        kv("Index path", L.index_path || "—"),
        kv("Guideline", L.guideline || "—"),
        kv("Rule ids", (s.rule_ids || []).length ? h("ul", { class: "plain" }, s.rule_ids.map((r) => h("li", {}, h("code", {}, r)))) : L.rule || "—"),
        kv("Term source", L.source ? words(L.source) : "—"),
        kv("Flags", (s.flags || []).length ? s.flags.map(words).join(", ") : "none"),
        kv("Review", s.requires_review ? "required by policy" : "not required"),
        i11 ? kv("ICD-11", i11.primary?.code ? `${i11.primary.code} ${i11.primary.title || ""}` : i11.choices?.length ? `${i11.choices.length} choices (see ICD-11 tab)` : i11.note || "no mapping") : null,
        extra.map(([k, v]) => kv(words(k), typeof v === "string" ? v : JSON.stringify(v))),
      ),
      Array.isArray(L.steps) && L.steps.length ? h("div", {}, h("h4", {}, "Steps"), h("ol", { class: "steps" }, L.steps.map((t) => h("li", {}, t)))) : null,
      h(
        "div",
        {},
        h("h4", {}, "Evidence"),
        (s.evidence || []).length
          ? h(
              "ul",
              { class: "evidence-list" },
              s.evidence.map((ev) =>
                h(
                  "li",
                  {},
                  h("q", {}, ev.text),
                  h("span", { class: "hint" }, ` (characters ${ev.start}–${ev.end})`),
                ),
              ),
            )
          : h("p", {}, "No evidence span."),
      ),
      (s.decisions || []).length
        ? h(
            "div",
            {},
            h("h4", {}, "Decisions"),
            h(
              "ul",
              { class: "decisions" },
              s.decisions.map((d) =>
                h("li", {}, `${words(d.action)} by ${d.reviewer_name || d.reviewer} (${d.credential}) ${String(d.decided_at || "").replace("T", " ").replace(/\.\d+/, "")}`, d.reason ? `: ${words(d.reason)}` : "", d.new_code ? ` → ${d.new_code}` : "", d.comment ? ` — “${d.comment}”` : ""),
              ),
            ),
          )
        : null,
    );
  }

  function drawFinal() {
    const e = state.enc;
    if (!e.final_codes || !e.final_codes.length) {
      replace(finalEl, h("h3", { id: "final-title" }, "Final codes"), h("p", { class: "hint" }, e.status === "finalised" ? "Finalised with no codes." : "Not finalised yet."));
      return;
    }
    replace(
      finalEl,
      h("h3", { id: "final-title" }, "Final codes"),
      h("p", { class: "hint" }, `Finalised ${e.finalisation_mode ? `(${e.finalisation_mode}) ` : ""}${e.finalised_by ? `by ${e.finalised_by} ` : ""}${e.finalised_at ? `at ${String(e.finalised_at).replace("T", " ").replace(/\.\d+/, "")}` : ""}`),
      h("ol", { class: "final-list" }, e.final_codes.map((c) => h("li", {}, h("code", {}, c.code), ` ${systemLabel(c.system)} · ${c.source}`))),
    );
  }

  function syncSelection({ scroll = false, focus = false } = {}) {
    const s = sugg();
    for (const li of listEl.querySelectorAll("li.suggestion")) {
      const on = s && li.dataset.sid === String(s.id);
      li.classList.toggle("selected", Boolean(on));
      const b = li.querySelector(".code-btn");
      if (b) b.setAttribute("aria-pressed", on ? "true" : "false");
    }
    const mark = highlight(noteEl, s ? s.id : null);
    drawLogic();
    if (scroll && mark) mark.scrollIntoView({ block: "nearest", inline: "nearest" });
    if (s) {
      const li = $(`#sugg-${s.id}`);
      if (scroll && li) li.scrollIntoView({ block: "nearest" });
      if (focus) $(`#code-${s.id}`)?.focus();
    }
  }

  function select(i, opts = {}) {
    if (i < 0 || i >= state.enc.suggestions.length) return;
    const changed = i !== state.sel;
    state.sel = i;
    if (changed && state.form) {
      state.form = null;
      drawList();
    }
    syncSelection(opts);
    const s = sugg();
    if (s && !opts.quiet) announce(`${s.code}: ${s.descriptor}. ${pct(s.confidence)}, ${words(s.status)}.`);
  }

  async function decide(i, body) {
    const s = sugg(i);
    if (!s || state.busy) return;
    if (state.enc.status === "finalised") {
      showError({ problem: { title: "Already finalised", detail: `Encounter ${state.enc.encounter} is finalised; decisions are closed.` } });
      return;
    }
    state.busy = true;
    clearError();
    try {
      const out = await api.post(`/api/v1/encounters/${id}/suggestions/${encodeURIComponent(s.id)}/decision`, body);
      s.status = out?.status || { accept: "accepted", reject: "rejected", edit: "edited" }[body.action];
      s.decisions = [
        ...(s.decisions || []),
        {
          id: out?.decision,
          action: body.action,
          reason: body.reason || null,
          comment: body.comment || null,
          new_code: body.code || null,
          reviewer: api.currentUser()?.username || "",
          reviewer_name: api.currentUser()?.display_name || api.currentUser()?.username || "",
          credential: api.currentUser()?.credential || "",
          decided_at: new Date().toISOString(),
        },
      ];
      if (state.enc.status === "needs_review") state.enc.status = "in_review";
      if (out?.finalised) applyFinalised(out.finalised);
      state.form = null;
      const verb = { accept: "Accepted", reject: "Rejected", edit: `Edited to ${body.code}:` }[body.action];
      const left = typeof out?.pending_required === "number" ? out.pending_required : null;
      announce(`${verb} ${s.code}.${left !== null ? ` ${left} required review${left === 1 ? "" : "s"} left.` : ""}${out?.finalised ? " The encounter was finalised." : ""}`);
      // Move on to the next undecided suggestion.
      const n = state.enc.suggestions.length;
      for (let k = 1; k <= n; k += 1) {
        const j = (i + k) % n;
        if (state.enc.suggestions[j].status === "pending") {
          state.sel = j;
          break;
        }
      }
    } catch (e) {
      if (e.status !== 401) showError(e);
    } finally {
      state.busy = false;
      drawAll({ focus: true, scroll: true });
    }
  }

  function applyFinalised(f) {
    state.enc.status = "finalised";
    state.enc.final_codes = f.codes || [];
    state.enc.finalisation_mode = f.mode;
    state.enc.finalised_at = f.at;
    state.enc.finalised_by = f.by || f.finalised_by || api.currentUser()?.username;
    state.loaded.claim = false;
    state.loaded.packet = false;
  }

  async function finalise() {
    if (state.enc.status === "finalised" || state.busy) return;
    state.busy = true;
    clearError();
    finaliseBtn.setAttribute("aria-busy", "true");
    try {
      const f = await api.post(`/api/v1/encounters/${id}/finalise`, {});
      applyFinalised(f || {});
      announce(`Encounter ${state.enc.encounter} finalised with ${(state.enc.final_codes || []).length} codes.`);
    } catch (e) {
      if (e.status !== 401) showError(e);
    } finally {
      state.busy = false;
      finaliseBtn.removeAttribute("aria-busy");
      drawAll({});
      finaliseBtn.focus();
    }
  }

  function drawAll(opts) {
    drawHeader();
    drawList();
    drawFinal();
    syncSelection(opts);
    if (state.tab === "icd11") renderIcd11Tab(panels.icd11, state.enc);
  }

  // ---- tabs ---------------------------------------------------------------------
  async function selectTab(key, focusTab) {
    state.tab = key;
    for (const [k] of TABS) {
      const on = k === key;
      tabButtons[k].setAttribute("aria-selected", on ? "true" : "false");
      tabButtons[k].tabIndex = on ? 0 : -1;
      panels[k].hidden = !on;
    }
    if (focusTab) tabButtons[key].focus();
    try {
      if (key === "em" && !state.loaded.em) {
        state.loaded.em = true;
        await renderEm(panels.em, id, { onEvidence: showSpan });
      } else if (key === "icd11") {
        renderIcd11Tab(panels.icd11, state.enc);
      } else if (key === "claim" && !state.loaded.claim) {
        state.loaded.claim = true;
        renderClaimTab(panels.claim, state.enc, id);
      } else if (key === "packet" && !state.loaded.packet) {
        state.loaded.packet = true;
        await renderPacketTab(panels.packet, state.enc, id);
      }
    } catch (e) {
      if (e.status !== 401) showError(e);
    }
  }

  /** Temporarily highlights an arbitrary span (E/M evidence). */
  function showSpan(start, end) {
    for (const el of noteEl.querySelectorAll(".flash")) el.classList.remove("flash");
    const marks = [...noteEl.querySelectorAll("mark.ev")].filter((m) => Number(m.dataset.start) < end && Number(m.dataset.end) > start);
    if (marks.length) {
      marks.forEach((m) => m.classList.add("flash"));
      marks[0].scrollIntoView({ block: "nearest" });
      return;
    }
    announce(`Characters ${start}–${end} of the note`);
  }

  // ---- note interactions -----------------------------------------------------
  function markActivate(mark) {
    const sids = mark.dataset.sids.split(" ");
    const cur = sugg();
    let pick = sids[0];
    if (cur && sids.includes(String(cur.id))) pick = sids[(sids.indexOf(String(cur.id)) + 1) % sids.length];
    const i = state.enc.suggestions.findIndex((s) => String(s.id) === pick);
    if (state.tab !== "codes") selectTab("codes", false);
    for (const li of listEl.querySelectorAll("li.suggestion")) li.classList.toggle("linked", sids.includes(li.dataset.sid));
    select(i, { scroll: false });
    $(`#sugg-${pick}`)?.scrollIntoView({ block: "nearest" });
    const codes = sids.map((x) => state.enc.suggestions.find((s) => String(s.id) === x)?.code).filter(Boolean);
    if (codes.length > 1) announce(`Evidence for ${codes.join(", ")}; selected ${sugg().code}`);
  }
  // Selection follows keyboard focus in the list.
  listEl.addEventListener("focusin", (ev) => {
    const b = ev.target.closest(".code-btn");
    if (!b) return;
    const idx = state.enc.suggestions.findIndex((x) => `code-${x.id}` === b.id);
    if (idx >= 0 && idx !== state.sel) {
      select(idx, { quiet: true });
      // Closing an open form redraws the list: keep focus on the new button.
      if (!document.contains(b)) $(`#${b.id}`)?.focus();
    }
  });
  noteEl.addEventListener("click", (ev) => {
    const m = ev.target.closest("mark.ev");
    if (m) markActivate(m);
  });
  noteEl.addEventListener("keydown", (ev) => {
    const m = ev.target.closest("mark.ev");
    if (m && (ev.key === "Enter" || ev.key === " ")) {
      ev.preventDefault();
      markActivate(m);
    }
  });

  // ---- keyboard shortcuts -------------------------------------------------
  const dialog = $("#help-dialog");
  function openHelp() {
    dialog.returnFocusTo = document.activeElement;
    if (!dialog.open) dialog.showModal();
    $("#help-close").focus();
  }
  helpBtn.addEventListener("click", openHelp);
  finaliseBtn.addEventListener("click", finalise);

  function onKey(ev) {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (dialog.open) return;
    if (isTyping(ev)) return;
    const inTabs = ev.target instanceof Element && ev.target.closest('[role="tablist"]');
    // A shortcut acts on the suggestion that has focus, if any.
    const li = ev.target instanceof Element ? ev.target.closest("li.suggestion") : null;
    if (li) {
      const idx = state.enc.suggestions.findIndex((x) => String(x.id) === li.dataset.sid);
      if (idx >= 0 && idx !== state.sel) select(idx, { quiet: true });
    }
    const k = ev.key;
    const toCodes = () => {
      if (state.tab !== "codes") selectTab("codes", false);
    };
    if (k === "?") {
      ev.preventDefault();
      openHelp();
    } else if (k === "j" || (k === "ArrowDown" && !inTabs)) {
      ev.preventDefault();
      toCodes();
      select(Math.min(state.sel + 1, state.enc.suggestions.length - 1), { focus: true, scroll: true });
    } else if (k === "k" || (k === "ArrowUp" && !inTabs)) {
      ev.preventDefault();
      toCodes();
      select(Math.max(state.sel - 1, 0), { focus: true, scroll: true });
    } else if (k === "a") {
      if (!sugg()) return;
      ev.preventDefault();
      toCodes();
      decide(state.sel, { action: "accept" });
    } else if (k === "r") {
      if (!sugg()) return;
      ev.preventDefault();
      toCodes();
      openForm(state.sel, "reject");
    } else if (k === "e") {
      if (!sugg()) return;
      ev.preventDefault();
      toCodes();
      openForm(state.sel, "edit");
    } else if (k === "f") {
      ev.preventDefault();
      finalise();
    } else if (k === "Escape" && state.form) {
      ev.preventDefault();
      closeForm(true);
    }
  }
  document.addEventListener("keydown", onKey);

  drawAll({});
  return () => {
    document.removeEventListener("keydown", onKey);
    if (dialog.open) dialog.close();
  };
}

function meta(label, value) {
  return h("div", { class: "meta-item" }, h("dt", {}, label), h("dd", {}, value));
}

function kv(label, value) {
  return [h("dt", {}, label), h("dd", {}, value)];
}

function field(id, label, control, hint, hintId) {
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("span", { class: "hint", id: hintId || `${id}-hint` }, hint) : null);
}

export function systemLabel(system) {
  const s = String(system || "").toLowerCase().replace(/[^a-z0-9]/g, "");
  if (s === "icd10cm") return "ICD-10-CM";
  if (s === "icd10pcs") return "ICD-10-PCS";
  if (s === "cpt") return "CPT";
  if (s === "hcpcs") return "HCPCS";
  return system || "";
}
