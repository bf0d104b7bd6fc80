// The console's left-hand menu, as Chinese hotline platforms have it: 工单管理, 工单查询,
// 统计分析, 知识库, 系统管理. This is the one place it is declared: a group is a
// heading with its items, or a single link (`path`); an item shows to the roles listed
// (the route table in main.js still decides who may open it). A screen is added by
// adding its item to its group here; a route that has a `nav` label but no item here
// shows under 更多 until it is placed.

import {
  ADMIN_ROLES, CALL_TAKER_ROLES, CENTRE_ROLES, KB_READER_ROLES, SUPERVISOR_ROLES, UNIT_ROLES,
} from "./vocab.js";

export const MENU = [
  {
    key: "work",
    label: "menuUi.work",
    icon: "work",
    items: [
      { path: "/agent", label: "nav.agent", roles: CALL_TAKER_ROLES },
      { path: "/unit", label: "nav.unit", roles: UNIT_ROLES },
      { path: "/board", label: "nav.board", roles: SUPERVISOR_ROLES },
      { path: "/outages", label: "nav.outages", roles: CENTRE_ROLES },
      { path: "/rules", label: "nav.rules", roles: SUPERVISOR_ROLES },
    ],
  },
  {
    key: "search", label: "searchUi.nav", icon: "search", path: "/orders",
    roles: [...CENTRE_ROLES, ...UNIT_ROLES],
  },
  {
    key: "stats",
    label: "menuUi.stats",
    icon: "stats",
    items: [
      { path: "/reports", label: "periodicUi.nav", roles: SUPERVISOR_ROLES },
      { path: "/rankings", label: "rankUi.nav", roles: SUPERVISOR_ROLES },
      { path: "/notices", label: "menuUi.notices", roles: SUPERVISOR_ROLES },
      { path: "/hot", label: "hotUi.nav", roles: SUPERVISOR_ROLES },
    ],
  },
  { key: "knowledge", label: "kbUi.nav", icon: "knowledge", path: "/knowledge", roles: KB_READER_ROLES },
  {
    key: "system",
    label: "menuUi.system",
    icon: "system",
    items: [
      { path: "/admin/users", label: "menuUi.users", roles: ADMIN_ROLES },
      { path: "/admin/integrations", label: "menuUi.integrations", roles: ADMIN_ROLES },
      { path: "/admin/exchange", label: "exchangeUi.nav", roles: ADMIN_ROLES },
      { path: "/admin/callers", label: "menuUi.callers", roles: ADMIN_ROLES },
      { path: "/admin/enterprises", label: "refAdminUi.enterprises", roles: ADMIN_ROLES },
      { path: "/admin/areas", label: "refAdminUi.areas", roles: ADMIN_ROLES },
      { path: "/admin/catalogue", label: "refAdminUi.catalogue", roles: ADMIN_ROLES },
      { path: "/admin/classifications", label: "classifyUi.nav", roles: ADMIN_ROLES },
      { path: "/admin/calendar", label: "calUi.nav", roles: ADMIN_ROLES },
      { path: "/notifications", label: "notifyUi.nav", roles: ADMIN_ROLES },
      { path: "/suggest", label: "suggestUi.nav", roles: SUPERVISOR_ROLES },
      { path: "/admin/changes", label: "menuUi.changes", roles: ADMIN_ROLES },
    ],
  },
];

// The menu one role sees: groups with the items it may open (a group with none is left
// out), then the routes labelled for a menu that no item names, under 更多.
export function menuFor(role, routes) {
  const shown = (entry) => entry.roles.includes(role);
  const groups = MENU.map((g) => (g.path ? g : { ...g, items: g.items.filter(shown) })).filter(
    (g) => (g.path ? shown(g) : g.items.length > 0),
  );
  const placed = new Set(MENU.flatMap((g) => (g.path ? [g.path] : g.items.map((i) => i.path))));
  const more = routes
    .filter((r) => r.nav && !placed.has(r.path) && shown(r))
    .map((r) => ({ path: r.path, label: r.nav }));
  if (more.length) groups.push({ key: "more", label: "menuUi.more", icon: "more", items: more });
  return groups;
}
