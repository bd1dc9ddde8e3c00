// Shared set-up for the end-to-end tests: Debian's chromium through
// playwright-core (no browser download), a fresh profile per run.

import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const BASE_URL = (process.env.E2E_BASE_URL || "http://127.0.0.1:8787").replace(/\/$/, "");
export const USER = process.env.E2E_USER || "alice";
export const PASSWORD = process.env.E2E_PASSWORD || "";
export const ARTIFACTS = path.resolve(process.env.E2E_ARTIFACTS || "../target/e2e-artifacts");
export const EXPECT_ENCOUNTERS = Number(process.env.E2E_EXPECT_ENCOUNTERS || "1");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

fs.mkdirSync(ARTIFACTS, { recursive: true });

/** Launches chromium with a fresh user-data dir; returns {context, page, problems, close}. */
export async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "medledger-e2e-profile-"));
  // playwright-core passes the profile as --user-data-dir itself.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1366, height: 768 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] || (await context.newPage());
  // Page errors and CSP violations are failures; expected HTTP errors are not.
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to (load|apply|execute|evaluate)/i.test(t)) problems.push(`csp: ${t}`);
    else if (m.type() === "error" && !/Failed to load resource/.test(t)) problems.push(`console: ${t}`);
  });
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function shot(page, name, opts = {}) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, ...opts });
  return file;
}

/** Calls the API from inside the page with the session's token. */
export async function api(page, method, url, body) {
  return page.evaluate(
    async ({ method, url, body }) => {
      const t = sessionStorage.getItem("medledger.token");
      const res = await fetch(url, {
        method,
        headers: { Authorization: `Bearer ${t}`, ...(body ? { "Content-Type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, json, text, type: res.headers.get("content-type") };
    },
    { method, url, body },
  );
}

/** Accessibility smoke checks on the current page; returns a list of problems. */
export async function a11yProblems(page) {
  return page.evaluate(() => {
    const out = [];
    const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
    const nameOf = (el) => {
      const by = el.getAttribute("aria-labelledby");
      if (by) {
        const t = by
          .split(/\s+/)
          .map((id) => document.getElementById(id)?.textContent || "")
          .join(" ")
          .trim();
        if (t) return t;
      }
      return (el.getAttribute("aria-label") || "").trim();
    };
    for (const el of document.querySelectorAll("input, select, textarea")) {
      if (el.type === "hidden") continue;
      const labelled = (el.labels && Array.from(el.labels).some((l) => l.textContent.trim())) || nameOf(el) || (el.getAttribute("title") || "").trim();
      if (!labelled) out.push(`unlabelled ${el.tagName.toLowerCase()}#${el.id || "?"}[name=${el.name || ""}]`);
    }
    for (const el of document.querySelectorAll("button, [role=button], [role=tab]")) {
      const name = nameOf(el) || el.textContent.trim() || (el.getAttribute("title") || "").trim();
      if (!name) out.push(`button without a name: ${el.outerHTML.slice(0, 80)}`);
    }
    for (const el of document.querySelectorAll("svg[role=img]")) {
      if (!nameOf(el) && !el.querySelector("title")?.textContent.trim()) out.push(`chart without a name: #${el.id}`);
    }
    for (const el of document.querySelectorAll("img")) {
      if (!el.hasAttribute("alt")) out.push(`img without alt: ${el.src}`);
    }
    if (!document.querySelector("main")) out.push("no <main> landmark");
    if (!document.querySelector("h1") || !visible(document.querySelector("h1"))) out.push("no visible h1");
    const ids = new Map();
    for (const el of document.querySelectorAll("[id]")) ids.set(el.id, (ids.get(el.id) || 0) + 1);
    for (const [id, n] of ids) if (n > 1) out.push(`duplicate id ${id} (${n}×)`);
    return out;
  });
}

/** The computed outline of the focused element. */
export async function focusedOutline(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const cs = getComputedStyle(el);
    return { tag: el.tagName, id: el.id, text: el.textContent.trim().slice(0, 40), style: cs.outlineStyle, width: parseFloat(cs.outlineWidth) || 0, color: cs.outlineColor };
  });
}
