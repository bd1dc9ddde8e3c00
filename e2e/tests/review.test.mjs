// The review UI end to end against a running `medledger serve`
// (scripts/e2e.sh starts one with synthetic encounters).

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { launch, shot, api, a11yProblems, focusedOutline, BASE_URL, USER, PASSWORD, EXPECT_ENCOUNTERS } from "./lib.mjs";

describe("medledger review UI", () => {
  let b;
  let page;
  /** The encounter we review: chosen from the queue, the one with the most pending reviews. */
  let target = null;
  let view = null;

  before(async () => {
    assert.ok(PASSWORD, "E2E_PASSWORD must be set");
    b = await launch();
    page = b.page;
  });

  after(async () => {
    if (b) await b.close();
  });

  it("serves the UI with a CSP and no inline code", async () => {
    const res = await page.goto(`${BASE_URL}/`);
    assert.equal(res.status(), 200);
    const csp = res.headers()["content-security-policy"] || "";
    assert.match(csp, /default-src 'self'/, `CSP header: ${csp}`);
    const inline = await page.evaluate(() => ({
      scripts: [...document.scripts].filter((s) => !s.src).length,
      styles: document.querySelectorAll("[style]").length,
      handlers: [...document.querySelectorAll("*")].filter((el) => [...el.attributes].some((a) => a.name.startsWith("on"))).length,
    }));
    assert.deepEqual(inline, { scripts: 0, styles: 0, handlers: 0 });
  });

  it("rejects a wrong password with a visible, announced error", async () => {
    await page.waitForSelector("#login-form");
    await shot(page, "01-login");
    await page.fill("#login-username", USER);
    await page.fill("#login-password", `${PASSWORD}-wrong`);
    await page.click("#login-submit");
    const err = page.locator("#login-error");
    await err.waitFor({ state: "visible" });
    assert.ok((await err.textContent()).trim().length > 0, "the error names the problem");
    assert.equal(await err.getAttribute("role"), "alert");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("medledger.token")), null);
    await shot(page, "02-login-error");
  });

  it("logs in and lists the stored encounters in the queue", async () => {
    await page.fill("#login-password", PASSWORD);
    await page.press("#login-password", "Enter");
    await page.waitForSelector("#queue-table");
    assert.ok(await page.evaluate(() => sessionStorage.getItem("medledger.token")), "token kept in sessionStorage");
    const me = await api(page, "GET", "/api/v1/me");
    assert.equal(me.status, 200, me.text);
    // Every stored encounter, whatever its status.
    await page.selectOption("#f-status", "all");
    await page.waitForFunction((n) => document.querySelectorAll("#queue-table tbody tr[data-encounter]").length >= n, EXPECT_ENCOUNTERS);
    const rows = await page.locator("#queue-table tbody tr[data-encounter]").count();
    assert.ok(rows >= EXPECT_ENCOUNTERS, `queue shows ${rows} encounters, expected ≥ ${EXPECT_ENCOUNTERS}`);
    // Sorting by a column header flips aria-sort.
    await page.click('#queue-table button.sort[data-key="encounter"]');
    assert.equal(await page.getAttribute('#queue-table th:has(button[data-key="encounter"])', "aria-sort"), "descending");
    // The open queue (default) holds our target: the one with the most pending reviews.
    const q = await api(page, "GET", "/api/v1/queue?status=open");
    assert.equal(q.status, 200, q.text);
    assert.ok(Array.isArray(q.json) && q.json.length > 0, `open queue: ${q.text}`);
    target = [...q.json].sort((x, y) => y.pending_required - x.pending_required || y.suggestions - x.suggestions)[0];
    assert.ok(target.pending_required >= 2, `an encounter with ≥ 2 pending reviews: ${JSON.stringify(target)}`);
    await page.selectOption("#f-status", "open");
    await page.waitForSelector(`#queue-table tbody tr[data-encounter="${target.encounter}"]`);
    await shot(page, "03-queue");
  });

  it("opens an encounter from the queue by keyboard", async () => {
    const link = page.locator(`#queue-table tbody tr[data-encounter="${target.encounter}"] a.row-link`);
    await link.focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("#suggestions li.suggestion");
    assert.equal(await page.textContent("#enc-title"), `Encounter #${target.encounter}`);
    const r = await api(page, "GET", `/api/v1/encounters/${target.encounter}`);
    assert.equal(r.status, 200, r.text);
    view = r.json;
    assert.ok(view.suggestions.length >= 2, "at least two suggestions");
    const cards = await page.locator("#suggestions li.suggestion").count();
    assert.equal(cards, view.suggestions.length);
  });

  it("highlights evidence as <mark> at code-point offsets", async () => {
    const cps = Array.from(view.note);
    for (const s of view.suggestions) {
      for (const e of s.evidence) {
        assert.equal(cps.slice(e.start, e.end).join(""), e.text, `evidence offsets of ${s.code} are code points`);
        // The marks of this suggestion, joined, contain its evidence text.
        const text = (await page.locator(`#note mark.ev[data-sids~="${s.id}"]`).allTextContents()).join("");
        assert.ok(text.includes(e.text) || e.text.includes(text), `${s.code}: marks ${JSON.stringify(text)} vs ${JSON.stringify(e.text)}`);
      }
    }
  });

  it("clicking a code activates its evidence and shows its logic", async () => {
    const s = view.suggestions.find((x) => x.evidence.length) || view.suggestions[0];
    await page.click(`#code-${s.id}`);
    assert.equal(await page.getAttribute(`#code-${s.id}`, "aria-pressed"), "true");
    const active = page.locator(`#note mark.ev.active[data-sids~="${s.id}"]`);
    assert.ok((await active.count()) >= 1, "its evidence mark has the active class");
    const inactive = await page.locator(`#note mark.ev.active:not([data-sids~="${s.id}"])`).count();
    assert.equal(inactive, 0, "no other mark is active");
    const term = (await page.textContent("#logic-matched-term")).trim();
    assert.ok(term && term !== "—", "the logic panel shows a matched term");
    if (s.logic && s.logic.matched_term) assert.equal(term, s.logic.matched_term);
    assert.match(await page.textContent("#logic"), new RegExp(s.code.replace(".", "\\.")));
    await page.locator(`#note mark.ev.active`).first().scrollIntoViewIfNeeded();
    await shot(page, "04-encounter-highlight");
  });

  it("clicking a highlighted span selects its code", async () => {
    const other = view.suggestions.find((x, i) => i > 0 && x.evidence.length);
    if (!other) return;
    const mark = page.locator(`#note mark.ev[data-sids~="${other.id}"]`).first();
    const sids = (await mark.getAttribute("data-sids")).split(" ");
    await mark.click();
    const pressed = await page.locator('#suggestions .code-btn[aria-pressed="true"]').getAttribute("id");
    assert.ok(sids.includes(pressed.replace("code-", "")), `selected ${pressed}, span belongs to ${sids}`);
    // Enter on a focused mark works too.
    await mark.focus();
    await page.keyboard.press("Enter");
    assert.equal(await page.locator('#suggestions .code-btn[aria-pressed="true"]').count(), 1);
  });

  it("shows the shortcut help with ? and closes it with Escape", async () => {
    await page.locator("#enc-title").click();
    await page.keyboard.press("?");
    await page.waitForSelector("#help-dialog[open]");
    assert.match(await page.textContent("#help-dialog"), /Reject the selected suggestion/);
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => !document.querySelector("#help-dialog").open);
  });

  it("accepts by keyboard, rejects with a reason by keyboard, and statuses update", async () => {
    const pending = view.suggestions.filter((s) => s.requires_review && s.status === "pending");
    const [first, second] = pending;
    // j/k move the selection; shortcuts do not fire inside inputs.
    await page.focus(`#code-${view.suggestions[0].id}`);
    await page.keyboard.press("j");
    if (view.suggestions.length > 1) assert.equal(await page.getAttribute(`#code-${view.suggestions[1].id}`, "aria-pressed"), "true");
    await page.keyboard.press("k");
    assert.equal(await page.getAttribute(`#code-${view.suggestions[0].id}`, "aria-pressed"), "true");

    // Accept `first` with "a".
    await page.focus(`#code-${first.id}`);
    await page.keyboard.press("a");
    await page.waitForSelector(`#sugg-${first.id} .sugg-status[data-status="accepted"]`);

    // Reject `second` with "r", reason and comment by keyboard, Enter submits.
    await page.focus(`#code-${second.id}`);
    await page.keyboard.press("r");
    const reason = page.locator(`#reject-${second.id}-reason`);
    await reason.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), `reject-${second.id}-reason`);
    // Typing in the form must not trigger shortcuts ("a" would accept).
    await reason.selectOption("not_documented");
    await page.keyboard.press("Tab");
    await page.keyboard.type("a test: not in the note");
    assert.equal(await page.locator(`#sugg-${second.id} .sugg-status[data-status="pending"]`).count(), 1, "typing did not fire shortcuts");
    await page.keyboard.press("Enter");
    await page.waitForSelector(`#sugg-${second.id} .sugg-status[data-status="rejected"]`);

    // The server agrees.
    const r = await api(page, "GET", `/api/v1/encounters/${target.encounter}`);
    const byId = Object.fromEntries(r.json.suggestions.map((s) => [s.id, s]));
    assert.equal(byId[first.id].status, "accepted");
    assert.equal(byId[second.id].status, "rejected");
    const last = byId[second.id].decisions.at(-1);
    assert.equal(last.reason, "not_documented");
    assert.match(await page.textContent("#status"), /Rejected|review/);
  });

  it("finalises (an early finalise shows the server's problem)", async () => {
    let r = await api(page, "GET", `/api/v1/encounters/${target.encounter}`);
    let remaining = r.json.suggestions.filter((s) => s.requires_review && s.status === "pending");
    if (remaining.length && r.json.status !== "finalised") {
      // Finalising with reviews pending: the problem+json is shown in the alert region.
      await page.focus("#enc-title");
      await page.click("#finalise");
      await page.waitForSelector("#alert:not([hidden])");
      assert.ok((await page.textContent("#alert")).trim().length > 0);
      for (const s of remaining) {
        if ((await page.textContent("#enc-status")).includes("finalised")) break;
        await page.focus(`#code-${s.id}`);
        await page.keyboard.press("a");
        await page.waitForSelector(`#sugg-${s.id} .sugg-status[data-status="accepted"]`);
      }
    }
    r = await api(page, "GET", `/api/v1/encounters/${target.encounter}`);
    if (r.json.status !== "finalised") {
      await page.focus("#enc-title");
      await page.keyboard.press("f");
    }
    await page.waitForFunction(() => document.querySelector("#enc-status")?.textContent.includes("finalised"));
    r = await api(page, "GET", `/api/v1/encounters/${target.encounter}`);
    assert.equal(r.json.status, "finalised");
    assert.ok(r.json.final_codes.length >= 1, "final codes");
    await page.waitForSelector("#final-codes li");
    assert.equal(await page.isDisabled("#finalise"), true);
  });

  it("renders the E/M MDM grid", async () => {
    await page.click("#tab-em");
    await page.waitForSelector("#panel-em h2");
    await page.waitForFunction(() => !document.querySelector("#panel-em .loading"));
    const grid = await page.locator("#mdm-grid").count();
    if (grid) {
      const rows = await page.locator("#mdm-grid tbody tr").allTextContents();
      assert.equal(rows.length, 3);
      assert.match(rows.join(" "), /Problems[\s\S]*Data[\s\S]*Risk/);
    } else {
      // A server without the endpoint: the empty state says so.
      assert.match(await page.textContent("#panel-em"), /No E\/M result/);
    }
    await shot(page, "05-em-grid");
  });

  it("shows ICD-11 companions next to ICD-10-CM codes", async () => {
    await page.click("#tab-icd11");
    await page.waitForSelector("#panel-icd11 h2");
    const icd10 = view.suggestions.filter((s) => /icd.?10.?cm/i.test(s.system));
    if (icd10.length) assert.equal(await page.locator("#icd11-table tbody tr").count(), icd10.length);
    await shot(page, "06-icd11");
  });

  it("builds the claim, lists scrub findings and downloads the 837", async () => {
    await page.click("#tab-claim");
    await page.click("#claim-build");
    await page.waitForSelector("#scrub-findings, #scrub-clean", { timeout: 20_000 });
    const heading = await page.textContent("#scrub-title");
    assert.match(heading, /Scrub findings \(\d+/);
    const n = await page.locator("#scrub-findings tbody tr").count();
    if (n) {
      const first = await page.locator("#scrub-findings tbody tr").first().textContent();
      assert.match(first, /reject|warn/);
    }
    const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#claim-837")]);
    const text = fs.readFileSync(await dl.path(), "utf8");
    assert.match(text, /^ISA\*/, "an X12 interchange");
    assert.match(text, /ST\*837\*/);
    await page.locator("#claim-result").scrollIntoViewIfNeeded();
    await shot(page, "07-claim-scrub");
  });

  it("downloads the audit packet with its attestation and codes", async () => {
    await page.click("#tab-packet");
    await page.waitForSelector("#packet-codes");
    const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#packet-html")]);
    assert.match(dl.suggestedFilename(), /\.html$/);
    const html = fs.readFileSync(await dl.path(), "utf8");
    assert.match(html, /Attestation/i);
    const r = await api(page, "GET", `/api/v1/encounters/${target.encounter}`);
    for (const c of r.json.final_codes) assert.ok(html.includes(c.code) || html.includes(c.code.replace(".", "")), `packet names final code ${c.code}`);
    assert.ok((await page.textContent("#packet-summary")).includes("Attestation"));
    await shot(page, "08-audit-packet");
  });

  it("fits 1366×768 without horizontal scrolling and passes the a11y smoke check", async () => {
    await page.click("#tab-codes");
    const overflow = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, w: window.innerWidth }));
    assert.ok(overflow.sw <= overflow.w, `horizontal scroll: ${overflow.sw} > ${overflow.w}`);
    assert.deepEqual(await a11yProblems(page), []);
    // Focus is visible: a keyboard-focused button has an outline.
    await page.focus("#enc-title");
    await page.locator("#help-open").focus();
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Tab");
    const o = await focusedOutline(page);
    assert.equal(o.tag, "BUTTON");
    assert.notEqual(o.style, "none", `outline on ${o.id}`);
    assert.ok(o.width >= 2, `outline width ${o.width}`);
  });

  it("renders the dashboard charts or their empty states", async () => {
    await page.click('a[data-route="dashboard"]');
    await page.waitForSelector("#dash-clean");
    for (const id of ["dash-clean", "dash-agree", "dash-reasons", "dash-payers", "dash-ar", "dash-drift", "dash-gold"]) {
      const card = page.locator(`#${id}`);
      const has = (await card.locator('svg[role="img"], table, .empty').count()) > 0;
      assert.ok(has, `${id} has a chart, a table or an empty state`);
    }
    for (const svg of await page.locator('svg[role="img"]').all()) {
      assert.ok((await svg.getAttribute("aria-label"))?.length, "chart has aria-label");
      assert.equal(await svg.locator("title").count() >= 1, true);
    }
    assert.deepEqual(await a11yProblems(page), []);
    await shot(page, "09-dashboard", { fullPage: true });
  });

  it("queue and login pass the a11y smoke check; focus is visible there", async () => {
    await page.click('a[data-route="queue"]');
    await page.waitForSelector("#queue-table");
    assert.deepEqual(await a11yProblems(page), []);
    await page.focus("#f-limit");
    await page.keyboard.press("Tab");
    const o = await focusedOutline(page);
    assert.equal(o.id, "queue-apply");
    assert.notEqual(o.style, "none");
    assert.ok(o.width >= 2);
  });

  it("goes back to the login screen on a 401", async () => {
    await page.evaluate(() => sessionStorage.setItem("medledger.token", "not-a-valid-token"));
    await page.click("#queue-refresh");
    await page.waitForSelector("#login-form");
    assert.match(await page.textContent("#login-error"), /session/i);
    assert.deepEqual(await a11yProblems(page), []);
  });

  it("logged no page errors and no CSP violations", () => {
    assert.deepEqual(b.problems, []);
  });
});
