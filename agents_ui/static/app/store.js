// What every screen shares: the user, reference data (names for codes), a ticking clock,
// and formatting in the centre's time zone.

import { reactive, ref } from "vue";
import { api, setCsrf } from "./api.js";
import { i18n } from "./i18n.js";
import { SUPERVISOR_ROLES, TIME_ZONE } from "./vocab.js";

export const session = reactive({ user: null, checked: false });

export const refs = reactive({
  loaded: false,
  hotlines: [],
  districts: [], // [{code, name_zh, name_en, streets: [...]}]
  areas: {}, // code -> area
  items: [],
  itemsByCode: {},
  enterprises: [],
  enterprisesById: {},
});

// One clock for every countdown on the page.
export const now = ref(Date.now());
setInterval(() => {
  now.value = Date.now();
}, 1000);

export async function loadSession() {
  try {
    const me = await api.get("/api/v1/auth/me");
    session.user = me.user;
    setCsrf(me.csrf_token);
  } catch {
    session.user = null;
  }
  session.checked = true;
}

export async function loadRefs() {
  if (refs.loaded) return;
  const [hotlines, areas, items, enterprises] = await Promise.all([
    api.get("/api/v1/hotlines"),
    api.get("/api/v1/areas"),
    api.get("/api/v1/service-items"),
    api.get("/api/v1/enterprises"),
  ]);
  refs.hotlines = hotlines.items;
  refs.districts = areas.items;
  const byCode = {};
  for (const district of areas.items) {
    byCode[district.code] = district;
    for (const street of district.streets) byCode[street.code] = street;
  }
  refs.areas = byCode;
  refs.items = items.items;
  refs.itemsByCode = Object.fromEntries(items.items.map((item) => [item.code, item]));
  refs.enterprises = enterprises.items;
  refs.enterprisesById = Object.fromEntries(enterprises.items.map((e) => [e.id, e]));
  refs.loaded = true;
}

// After an administrator changed reference data: the forms' lists read again.
export async function reloadRefs() {
  refs.loaded = false;
  await loadRefs();
}

function english() {
  return i18n.global.locale.value === "en";
}

// A reference row's name in the current language.
export function nameOf(row) {
  if (!row) return "";
  return (english() ? row.name_en : row.name_zh) || row.name_zh || row.name_en || "";
}

export function itemName(code) {
  return nameOf(refs.itemsByCode[code]) || code || "";
}

export function areaName(code) {
  const area = refs.areas[code];
  if (!area) return code || "";
  const parent = area.parent_code ? refs.areas[area.parent_code] : null;
  return parent ? `${nameOf(parent)} ${nameOf(area)}` : nameOf(area);
}

export function unitName(id) {
  return nameOf(refs.enterprisesById[id]) || (id ? `#${id}` : "");
}

const formats = {};
function formatter(kind) {
  const locale = english() ? "en-GB" : "zh-CN";
  const key = `${kind}:${locale}`;
  if (!formats[key]) {
    // English spells the month ("5 Dec 03:58"): "05/12" reads as May in half the world.
    const month = english() ? "short" : "2-digit";
    const day = english() ? "numeric" : "2-digit";
    const options =
      kind === "full"
        ? { year: "numeric", month, day, hour: "2-digit", minute: "2-digit" }
        : { month, day, hour: "2-digit", minute: "2-digit" };
    formats[key] = new Intl.DateTimeFormat(locale, { ...options, timeZone: TIME_ZONE, hour12: false });
  }
  return formats[key];
}

// "11/22 14:05" in Chinese, "22 Nov 14:05" in English; with the year when `full`.
export function fmtTime(iso, full = false) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const parts = formatter(full ? "full" : "short").formatToParts(date);
  const part = (type) => parts.find((p) => p.type === type)?.value || "";
  const time = `${part("hour")}:${part("minute")}`;
  if (english()) return [part("day"), part("month"), full ? part("year") : "", time].filter(Boolean).join(" ");
  const day = `${part("month")}/${part("day")}`;
  return full ? `${part("year")}/${day} ${time}` : `${day} ${time}`;
}

// A duration in words: 2天3小时, 5小时12分, 8分30秒.
export function fmtDuration(ms) {
  const t = i18n.global.t;
  let seconds = Math.max(0, Math.floor(Math.abs(ms) / 1000));
  const days = Math.floor(seconds / 86400);
  seconds -= days * 86400;
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  const parts = [];
  if (days) parts.push(t("time.d", { n: days }), t("time.h", { n: hours }));
  else if (hours) parts.push(t("time.h", { n: hours }), t("time.m", { n: minutes }));
  else if (minutes) parts.push(t("time.m", { n: minutes }), t("time.s", { n: seconds }));
  else parts.push(t("time.s", { n: seconds }));
  return parts.join(english() ? " " : "");
}

// A deadline as the consoles show it: the time left (or overdue), and a level —
// "red" when passed, "yellow" in the last fifth of the span from `start`, else "ok".
export function countdown(dueIso, startIso, nowMs) {
  if (!dueIso) return null;
  const due = new Date(dueIso).getTime();
  const left = due - nowMs;
  const t = i18n.global.t;
  if (left <= 0) return { level: "red", text: t("time.over", { t: fmtDuration(left) }) };
  const start = startIso ? new Date(startIso).getTime() : null;
  const span = start && due > start ? due - start : null;
  const yellow = span ? left <= span * 0.2 : left <= 3600 * 1000;
  return { level: yellow ? "yellow" : "ok", text: t("time.left", { t: fmtDuration(left) }) };
}

export function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function statusType(status) {
  return (
    {
      draft: "info",
      registered: "primary",
      dispatching: "primary",
      dispatched: "warning",
      returned: "danger",
      escalated: "danger",
      in_progress: "primary",
      completed: "success",
      resolved_on_call: "success",
      callback: "success",
      closed: "info",
      reopened: "warning",
      merged: "info",
      cancelled: "info",
      pending: "warning",
      signed: "primary",
      withdrawn: "info",
    }[status] || "info"
  );
}

export function go(path) {
  window.location.hash = "#" + path;
}

export function homeFor(user) {
  if (!user) return "/login";
  if (user.role === "agent") return "/agent";
  if (SUPERVISOR_ROLES.includes(user.role)) return "/board";
  return "/unit";
}

// An order event's type in words; vue-i18n reads dots as nesting, so the keys use "_".
// An event's name; a time request's events name the kind asked for (延期 or 挂起).
// Blocks of event names besides "event": a feature's own block keeps its names together.
const EVENT_BLOCKS = ["event", "notifyUi.event", "exchangeUi.event"];

export function eventLabel(type, data) {
  const kind = String(type).startsWith("time_request.") && data?.kind === "suspension" ? "_suspension" : "";
  const name = String(type).replace(/\./g, "_");
  for (const block of EVENT_BLOCKS) {
    const base = `${block}.${name}`;
    const key = i18n.global.te(base + kind) ? base + kind : base;
    if (i18n.global.te(key)) return i18n.global.t(key);
  }
  return type;
}

// Who did it, as the history records it ("王芳 (agent)"), with the role in words.
export function actorLabel(actor) {
  const t = i18n.global.t;
  if (!actor || actor === "system") return t("order.system");
  const match = /^(.*) \((\w+)\)$/.exec(actor);
  return match && i18n.global.te(`roles.${match[2]}`) ? `${match[1]} · ${t(`roles.${match[2]}`)}` : actor;
}

// Error text for a message box: the server's message, never HTML.
export function errorText(error) {
  const fields = Object.entries(error?.fields || {})
    .map(([name, text]) => `${name}: ${text}`)
    .join("; ");
  return fields ? `${error.message} (${fields})` : error?.message || String(error);
}
