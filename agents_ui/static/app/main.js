// The console's shell: login, the header (live state, language), the left-hand menu
// (menu.js: per role, folding to icons, a drawer on a phone), and a small hash router. Every screen is a module under views/; templates show user text only
// through {{ }} — never v-html.

import { computed, createApp, reactive, ref, registerRuntimeCompiler, watch } from "vue";
import ElementPlus, { ElMessage } from "element-plus";
import zhCn from "element-plus/locale/zh-cn";
import en from "element-plus/locale/en";
import { useI18n } from "vue-i18n";

import { api, onUnauthorised, setCsrf } from "./api.js";
import { i18n, setLocale } from "./i18n.js";
import { connectLive, disconnectLive, live, onSessionEnded } from "./live.js";
import {
  areaName,
  errorText,
  fmtTime,
  go,
  homeFor,
  itemName,
  loadRefs,
  loadSession,
  refs,
  session,
  unitName,
} from "./store.js";
import AgentConsole from "./views/agent.js";
import UnitInbox from "./views/unit.js";
import SupervisorBoard from "./views/board.js";
import OrderPage from "./views/order.js";
import RulesPage from "./views/rules.js";
import OutagesPage from "./views/outages.js";
import SuggestModelsPage from "./views/suggest_models.js";
import OrderSearchPage from "./views/order_search.js";
import KnowledgePage from "./views/knowledge.js";
import KnowledgeEditor from "./views/knowledge/editor.js";
import KnowledgeFigures from "./views/knowledge/figures.js";
import KnowledgeReview from "./views/knowledge/review.js";
import HotPage from "./views/hot.js";
import RankingsPage from "./views/rankings.js";
import { NoticePage, NoticesPage } from "./views/notices.js";
import NotificationSettingsPage from "./views/notification_settings.js";
import ReportsPage from "./views/reports.js";
import AdminUsersPage from "./views/admin/users.js";
import AdminIntegrationsPage from "./views/admin/integrations.js";
import AdminExchangePage from "./views/admin/exchange.js";
import AdminCallersPage from "./views/admin/callers.js";
import AdminChangesPage from "./views/admin/changes.js";
import { AdminAreasPage, AdminCataloguePage, AdminEnterprisesPage } from "./views/admin/reference.js";
import { AdminClassificationsPage } from "./views/admin/classifications.js";
import { MenuIcon } from "./views/admin/common.js";
import { menuFor } from "./menu.js";
import CalendarAdminPage from "./views/admin_calendar.js";
import { Countdown, Logo, StatusTag } from "./views/common.js";
import {
  ADMIN_ROLES, CALL_TAKER_ROLES, CENTRE_ROLES, KB_READER_ROLES, KB_WRITER_ROLES, SUPERVISOR_ROLES,
  UNIT_ROLES,
} from "./vocab.js";
import { renders } from "./templates.gen.js";

// Components keep their `template:` strings, but the browser compiles none: Vue's
// runtime-only build asks this "compiler" for a component's render function, and it
// looks the template up among those scripts/templates.mjs compiled ahead of time. So the
// page runs without eval (the CSP has no 'unsafe-eval').
registerRuntimeCompiler((template) => {
  const render = renders.get(template);
  if (!render) throw new Error("a template is not precompiled: run make templates");
  return render;
});

const ROUTES = [
  { path: "/agent", component: AgentConsole, roles: CALL_TAKER_ROLES, nav: "nav.agent" },
  { path: "/unit", component: UnitInbox, roles: UNIT_ROLES, nav: "nav.unit" },
  { path: "/board", component: SupervisorBoard, roles: SUPERVISOR_ROLES, nav: "nav.board" },
  { path: "/rules", component: RulesPage, roles: SUPERVISOR_ROLES, nav: "nav.rules" },
  { path: "/outages", component: OutagesPage, roles: CENTRE_ROLES, nav: "nav.outages" },
  { path: "/suggest", component: SuggestModelsPage, roles: SUPERVISOR_ROLES, nav: "suggestUi.nav" },
  { path: "/reports", component: ReportsPage, roles: SUPERVISOR_ROLES, nav: "periodicUi.nav" },
  // The search's query is its state: a change of filters keeps the screen (and an open
  // menu), which follows its params.
  {
    path: "/orders", component: OrderSearchPage, roles: [...CENTRE_ROLES, ...UNIT_ROLES], nav: "searchUi.nav",
    queryIsState: true,
  },
  { path: "/orders/:id", component: OrderPage, roles: [...CENTRE_ROLES, ...UNIT_ROLES] },
  // The knowledge base's own paths before "/knowledge/:id", which would take them.
  { path: "/knowledge", component: KnowledgePage, roles: KB_READER_ROLES, nav: "kbUi.nav" },
  { path: "/knowledge/new", component: KnowledgeEditor, roles: KB_WRITER_ROLES },
  { path: "/knowledge/review", component: KnowledgeReview, roles: SUPERVISOR_ROLES },
  { path: "/knowledge/figures", component: KnowledgeFigures, roles: SUPERVISOR_ROLES },
  { path: "/knowledge/:id", component: KnowledgePage, roles: KB_READER_ROLES },
  { path: "/knowledge/:id/edit", component: KnowledgeEditor, roles: KB_WRITER_ROLES },
  { path: "/hot", component: HotPage, roles: SUPERVISOR_ROLES, nav: "hotUi.nav" },
  { path: "/rankings", component: RankingsPage, roles: SUPERVISOR_ROLES, nav: "rankUi.nav" },
  { path: "/notices", component: NoticesPage, roles: [...SUPERVISOR_ROLES, ...UNIT_ROLES] },
  { path: "/notices/:id", component: NoticePage, roles: [...SUPERVISOR_ROLES, ...UNIT_ROLES] },
  { path: "/notifications", component: NotificationSettingsPage, roles: ["admin"], nav: "notifyUi.nav" },
  // 系统管理 (the menu's items in menu.js).
  { path: "/admin/users", component: AdminUsersPage, roles: ADMIN_ROLES },
  { path: "/admin/integrations", component: AdminIntegrationsPage, roles: ADMIN_ROLES },
  { path: "/admin/exchange", component: AdminExchangePage, roles: ADMIN_ROLES },
  { path: "/admin/callers", component: AdminCallersPage, roles: ADMIN_ROLES },
  { path: "/admin/changes", component: AdminChangesPage, roles: ADMIN_ROLES },
  { path: "/admin/enterprises", component: AdminEnterprisesPage, roles: ADMIN_ROLES },
  { path: "/admin/areas", component: AdminAreasPage, roles: ADMIN_ROLES },
  { path: "/admin/catalogue", component: AdminCataloguePage, roles: ADMIN_ROLES },
  { path: "/admin/classifications", component: AdminClassificationsPage, roles: ADMIN_ROLES },
  { path: "/admin/calendar", component: CalendarAdminPage, roles: ADMIN_ROLES },
];

// The menu's state kept across visits: folded to icons, and the groups closed.
const MENU_KEY = "hotline.menu";

function savedMenu() {
  try {
    return JSON.parse(window.localStorage.getItem(MENU_KEY)) || {};
  } catch {
    return {}; // storage disabled or garbled: the menu open, as new
  }
}

function saveMenu(state) {
  try {
    window.localStorage.setItem(MENU_KEY, JSON.stringify(state));
  } catch {
    // Not remembered: it still applies to this page.
  }
}

const route = reactive({ path: "", params: {} });

// "#/knowledge/5?version=2": the path's parameters, and the query's where the path has
// none of that name.
function parseHash() {
  const [path, query] = (window.location.hash.replace(/^#/, "") || "/").split("?", 2);
  route.path = query ? `${path}?${query}` : path;
  route.params = Object.fromEntries(new URLSearchParams(query || ""));
  for (const candidate of ROUTES) {
    const names = [];
    const pattern = new RegExp(
      "^" + candidate.path.replace(/:(\w+)/g, (_, name) => (names.push(name), "([^/]+)")) + "$",
    );
    const match = path.match(pattern);
    if (match) {
      names.forEach((name, i) => (route.params[name] = decodeURIComponent(match[i + 1])));
      return candidate;
    }
  }
  return null;
}

const matched = ref(null);

function resolveRoute() {
  matched.value = parseHash();
  if (session.user && refs.loaded && (route.path === "/" || route.path === "/login")) {
    go(homeFor(session.user));
  }
}
window.addEventListener("hashchange", resolveRoute);

const LoginPage = {
  components: { Logo },
  setup() {
    const { t, locale } = useI18n();
    const form = reactive({ username: "", password: "" });
    const busy = ref(false);
    const error = ref("");
    async function submit() {
      if (!form.username || !form.password) return;
      busy.value = true;
      error.value = "";
      try {
        const data = await api.post("/api/v1/auth/login", { ...form });
        setCsrf(data.csrf_token);
        session.user = data.user;
        form.password = "";
        go(homeFor(data.user));
      } catch (e) {
        error.value = t("login.failed", { message: errorText(e) });
      } finally {
        busy.value = false;
      }
    }
    const toggle = () => setLocale(locale.value === "en" ? "zh-CN" : "en");
    return { t, form, busy, error, submit, toggle };
  },
  template: `
  <div class="login-screen">
    <div class="login-card">
      <section class="login-brand">
        <Logo :size="44" />
        <h1>{{ t('app.name') }}</h1>
        <p class="lines">{{ t('app.lines') }}</p>
        <ul class="login-points">
          <li>12319 {{ t('domain.water') }} · {{ t('domain.gas') }} · {{ t('domain.heating') }}</li>
          <li>{{ t('login.subtitle') }}</li>
        </ul>
        <p class="login-foot">{{ t('login.footer') }}</p>
      </section>
      <section class="login-form">
        <div class="login-form-head">
          <h2>{{ t('login.title') }}</h2>
          <el-button text size="small" data-test="lang" @click="toggle">{{ t('app.language') }}</el-button>
        </div>
        <el-form label-position="top" @submit.prevent="submit">
          <el-form-item :label="t('login.username')">
            <el-input v-model="form.username" name="username" autocomplete="username" size="large" autofocus />
          </el-form-item>
          <el-form-item :label="t('login.password')">
            <el-input v-model="form.password" name="password" type="password" autocomplete="current-password"
                      size="large" show-password @keyup.enter="submit" />
          </el-form-item>
          <el-alert v-if="error" :title="error" type="error" :closable="false" show-icon class="login-error" />
          <el-button type="primary" size="large" class="login-submit" native-type="submit" :loading="busy"
                     data-test="login-submit">{{ t('login.submit') }}</el-button>
        </el-form>
      </section>
    </div>
  </div>`,
};

const NotFound = {
  setup() {
    const { t } = useI18n();
    return { t, home: () => go(homeFor(session.user)) };
  },
  template: `<el-result icon="warning" :title="t('app.notFound')">
      <template #extra><el-button type="primary" @click="home">{{ t('app.backHome') }}</el-button></template>
    </el-result>`,
};

const Shell = {
  components: { LoginPage, Logo, MenuIcon },
  setup() {
    const { t, locale } = useI18n();
    const elLocale = computed(() => (locale.value === "en" ? en : zhCn));
    const menu = computed(() => (session.user ? menuFor(session.user.role, ROUTES) : []));
    const saved = savedMenu();
    // Folded: the menu shows its icons only (wide screens); open: the drawer is out (phones).
    const folded = ref(!!saved.folded);
    const closedGroups = reactive(new Set(saved.closed || []));
    const drawer = ref(false);
    const remember = () => saveMenu({ folded: folded.value, closed: [...closedGroups] });
    function toggleMenu() {
      if (window.matchMedia("(max-width: 900px)").matches) drawer.value = !drawer.value;
      else {
        folded.value = !folded.value;
        remember();
      }
    }
    function toggleGroup(key) {
      if (folded.value) {
        folded.value = false; // a folded group's icon opens the menu on it
        closedGroups.delete(key);
      } else if (closedGroups.has(key)) closedGroups.delete(key);
      else closedGroups.add(key);
      remember();
    }
    // A link followed on a phone puts the drawer away.
    watch(() => route.path, () => (drawer.value = false));
    const current = computed(() => {
      const m = matched.value;
      if (!m) return NotFound;
      if (!session.user || !m.roles.includes(session.user.role)) return NotFound;
      return m.component;
    });
    const routeKey = computed(() => (matched.value?.queryIsState ? route.path.split("?")[0] : route.path));
    const toggleLocale = () => setLocale(locale.value === "en" ? "zh-CN" : "en");
    async function logout() {
      try {
        await api.post("/api/v1/auth/logout");
      } catch {
        // The session is gone either way.
      }
      disconnectLive();
      session.user = null;
      go("/login");
    }
    const isActive = (path) => {
      const here = route.path.split("?")[0];
      return here === path || here.startsWith(path + "/");
    };
    const groupActive = (group) =>
      group.path ? isActive(group.path) : group.items.some((i) => isActive(i.path));
    return {
      t, session, refs, live, menu, folded, closedGroups, drawer, toggleMenu, toggleGroup, current,
      routeKey, route, elLocale, toggleLocale, logout, isActive, groupActive,
    };
  },
  template: `
  <el-config-provider :locale="elLocale">
    <div v-if="!session.checked" class="boot">{{ t('app.loading') }}</div>
    <LoginPage v-else-if="!session.user" />
    <div v-else-if="!refs.loaded" class="boot">{{ t('app.loading') }}</div>
    <div v-else class="shell" :class="{ folded, 'drawer-open': drawer }">
      <header class="topbar">
        <button type="button" class="menu-toggle" data-test="menu-toggle" :aria-label="t('menuUi.toggle')"
                :aria-expanded="String(drawer || !folded)" @click="toggleMenu">
          <MenuIcon name="bars" />
        </button>
        <a class="brand" href="#/">
          <Logo :size="30" />
          <span class="brand-text">
            <span class="brand-name">{{ t('app.name') }}</span>
            <span class="brand-sub">{{ t('app.lines') }}</span>
          </span>
        </a>
        <div class="top-right">
          <span class="live-state" :class="live.state" data-test="live-state">
            <i class="dot"></i>{{ t('live.' + live.state) }}
          </span>
          <el-button text class="lang" data-test="lang" @click="toggleLocale">{{ t('app.language') }}</el-button>
          <span class="who">{{ session.user.name }}<small>{{ t('roles.' + session.user.role) }}</small></span>
          <el-button text class="logout" @click="logout">{{ t('app.logout') }}</el-button>
        </div>
      </header>
      <div class="shell-body">
        <aside class="side">
          <nav class="nav side-menu" data-test="menu" :aria-label="t('menuUi.label')">
            <template v-for="group in menu" :key="group.key">
              <a v-if="group.path" :href="'#' + group.path" class="menu-link menu-top" :data-menu="group.key"
                 :class="{ active: isActive(group.path) }" :title="t(group.label)">
                <MenuIcon :name="group.icon" /><span class="menu-text">{{ t(group.label) }}</span>
              </a>
              <div v-else class="menu-group" :data-menu="group.key"
                   :class="{ closed: closedGroups.has(group.key), active: groupActive(group) }">
                <button type="button" class="menu-link menu-top" :title="t(group.label)"
                        :aria-expanded="String(!closedGroups.has(group.key))" @click="toggleGroup(group.key)">
                  <MenuIcon :name="group.icon" /><span class="menu-text">{{ t(group.label) }}</span>
                  <span class="menu-caret" aria-hidden="true"></span>
                </button>
                <div class="menu-items">
                  <a v-for="item in group.items" :key="item.path" :href="'#' + item.path" class="menu-link"
                     :class="{ active: isActive(item.path) }">{{ t(item.label) }}</a>
                </div>
              </div>
            </template>
          </nav>
        </aside>
        <div class="side-backdrop" @click="drawer = false"></div>
        <main class="page">
          <component :is="current" :key="routeKey" :params="route.params" />
        </main>
      </div>
    </div>
  </el-config-provider>`,
};

async function start() {
  const signedOut = () => {
    disconnectLive();
    session.user = null;
  };
  onUnauthorised(signedOut);
  onSessionEnded(signedOut);
  await loadSession();
  matched.value = parseHash();
  const app = createApp(Shell);
  app.use(ElementPlus);
  app.use(i18n);
  app.component("StatusTag", StatusTag);
  app.component("Countdown", Countdown);
  Object.assign(app.config.globalProperties, {
    $fmtTime: fmtTime,
    $itemName: itemName,
    $areaName: areaName,
    $unitName: unitName,
  });
  app.config.errorHandler = (err) => {
    console.error(err);
    ElMessage.error(errorText(err));
  };
  app.mount("#app");
  // Once signed in (now or later): reference data, the live connection, the home page.
  const enter = async () => {
    await loadRefs();
    connectLive();
    resolveRoute();
  };
  if (session.user) await enter();
  watch(
    () => session.user,
    (user) => {
      if (user) enter();
    },
  );
}

start();
