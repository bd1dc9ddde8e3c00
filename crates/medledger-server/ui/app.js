// medledger review UI: hash router, login, layout, messages.

import * as api from "./api.js";
import { h, replace, $, $$ } from "./dom.js";
import { renderQueue } from "./queue.js";
import { renderEncounter } from "./encounter.js";
import { renderDashboard } from "./dashboard.js";
import { showError, clearError, announce } from "./messages.js";

const main = () => $("#main");

/** The current route from the hash: [name, ...params]. */
function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  return parts.length ? parts : ["queue"];
}

export function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

let cleanup = null;

async function render() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const [name, ...params] = route();
  const loggedIn = Boolean(api.token());
  if (!loggedIn || name === "login") {
    if (loggedIn && name === "login") return navigate("#/queue");
    return renderLogin();
  }
  showChrome(true);
  for (const a of $$("#nav a")) {
    if (a.dataset.route === name || (name === "encounter" && a.dataset.route === "queue")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const el = main();
  el.className = `view-${name}`;
  replace(el, h("p", { class: "loading" }, "Loading…"));
  try {
    if (name === "queue") cleanup = await renderQueue(el);
    else if (name === "encounter" && params[0]) cleanup = await renderEncounter(el, params[0]);
    else if (name === "dashboard") cleanup = await renderDashboard(el);
    else replace(el, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/queue" }, "Back to the work queue")));
  } catch (e) {
    if (e && e.status === 401) return;
    replace(el, h("h1", {}, "Could not load this page"));
    showError(e);
  }
}

function showChrome(on) {
  $("#nav").hidden = !on;
  $("#user-box").hidden = !on;
  const u = api.currentUser();
  $("#user-name").textContent = u ? `${u.display_name || u.username}${u.credential ? `, ${u.credential}` : ""}` : "";
}

function renderLogin(problem) {
  showChrome(false);
  const el = main();
  el.className = "view-login";
  document.title = "Sign in · medledger";
  const form = h(
    "form",
    { class: "login-form card", id: "login-form", "aria-labelledby": "login-title", novalidate: true },
    h("h1", { id: "login-title" }, "Sign in"),
    h("div", { class: "field" }, h("label", { for: "login-username" }, "User name"), h("input", { id: "login-username", name: "username", autocomplete: "username", required: true })),
    h(
      "div",
      { class: "field" },
      h("label", { for: "login-password" }, "Password"),
      h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    ),
    h("p", { class: "login-error", id: "login-error", role: "alert", "aria-live": "assertive", hidden: true }),
    h("button", { type: "submit", class: "btn btn-primary", id: "login-submit" }, "Sign in"),
  );
  const errBox = form.querySelector("#login-error");
  const fail = (title, detail) => {
    errBox.hidden = false;
    replace(errBox, h("strong", {}, title), detail ? ` ${detail}` : "");
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const username = form.username.value.trim();
    const password = form.password.value;
    if (!username || !password) return fail("Missing sign-in details.", "Enter your user name and password.");
    const btn = form.querySelector("#login-submit");
    btn.disabled = true;
    btn.setAttribute("aria-busy", "true");
    try {
      await api.login(username, password);
      clearError();
      const back = sessionStorage.getItem("medledger.after-login");
      sessionStorage.removeItem("medledger.after-login");
      navigate(back && !back.startsWith("#/login") ? back : "#/queue");
      announce(`Signed in as ${username}`);
    } catch (e) {
      const p = e.problem || {};
      fail(p.title || "Sign-in failed.", p.detail || "");
      form.password.select();
    } finally {
      btn.disabled = false;
      btn.removeAttribute("aria-busy");
    }
  });
  replace(el, h("div", { class: "login-wrap" }, form));
  if (problem) fail(problem.title || "Your session has ended.", problem.detail || "Sign in again.");
  form.username.focus();
}

api.setUnauthorizedHandler((problem) => {
  const here = location.hash;
  if (here && !here.startsWith("#/login")) sessionStorage.setItem("medledger.after-login", here);
  if (!location.hash.startsWith("#/login")) history.replaceState(null, "", "#/login");
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  renderLogin(problem && problem.status === 401 ? { title: "Your session has ended.", detail: "Sign in again." } : problem);
});

function init() {
  window.addEventListener("hashchange", () => {
    clearError();
    render();
  });
  $("#logout").addEventListener("click", async () => {
    try {
      await api.logout();
    } catch {
      /* the session is cleared either way */
    }
    history.replaceState(null, "", "#/login");
    renderLogin();
    announce("Signed out");
  });
  const dialog = $("#help-dialog");
  dialog.addEventListener("close", () => {
    const back = dialog.returnFocusTo;
    if (back && document.contains(back)) back.focus();
  });
  render();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
