// What the knowledge base's screens share: who may write or review an article, the
// sub-navigation between its pages, and small formatters.

import { computed, onMounted, ref } from "vue";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { nameOf, session } from "../../store.js";
import { KB_WRITER_ROLES, SUPERVISOR_ROLES, TIME_ZONE, UNIT_ROLES } from "../../vocab.js";

export const isWriter = () => KB_WRITER_ROLES.includes(session.user?.role);
export const isReviewer = () => SUPERVISOR_ROLES.includes(session.user?.role);

// The server's rule: the centre's supervisors write the centre's articles (no owner), a
// unit's users their unit's.
export function mayEdit(owner) {
  const user = session.user;
  if (!user) return false;
  if (UNIT_ROLES.includes(user.role)) return !!owner && owner.id === user.enterprise_id;
  return SUPERVISOR_ROLES.includes(user.role) && !owner;
}

// A person as the API gives one ({id, name}); older rows may carry the id alone.
export function person(who) {
  if (!who) return "—";
  if (typeof who === "object") return who.name || `#${who.id}`;
  return `#${who}`;
}

export function ownerName(owner, t) {
  return owner ? nameOf(owner) : t("kbUi.centre");
}

export function stateType(state) {
  return { draft: "info", submitted: "warning", published: "success", rejected: "danger", superseded: "info" }[state] || "info";
}

// Today in the centre's calendar, and a day `days` before it, as YYYY-MM-DD.
export function centreDay(days = 0) {
  const at = new Date(Date.now() - days * 86400 * 1000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit" }).format(at);
}

// The count of versions waiting for review, for the sub-navigation's badge.
function useWaiting() {
  const waiting = ref(null);
  onMounted(async () => {
    if (!isReviewer()) return;
    try {
      waiting.value = (await api.get("/api/v1/knowledge/review")).items.length;
    } catch {
      waiting.value = null; // the badge is a convenience; the page itself says what failed
    }
  });
  return waiting;
}

// The pages of the knowledge base, as tabs over each of them.
export const KbNav = {
  props: { active: { type: String, required: true } },
  setup() {
    const { t } = useI18n();
    const links = computed(() =>
      [
        { key: "search", path: "/knowledge", label: "kbUi.search", show: true },
        { key: "new", path: "/knowledge/new", label: "kbUi.newArticle", show: isWriter() },
        { key: "review", path: "/knowledge/review", label: "kbUi.reviewQueue", show: isReviewer() },
        { key: "figures", path: "/knowledge/figures", label: "kbUi.figures", show: isReviewer() },
      ].filter((link) => link.show),
    );
    return { t, links, waiting: useWaiting() };
  },
  template: `
  <div class="kb-nav" data-test="kb-nav">
    <span class="kb-nav-title">{{ t('kbUi.title') }}</span>
    <a v-for="link in links" :key="link.key" :href="'#' + link.path" :class="{ active: active === link.key }"
       :data-test="'kb-nav-' + link.key">{{ t(link.label) }}<span v-if="link.key === 'review' && waiting"
       class="tab-count" data-test="kb-waiting">{{ waiting }}</span></a>
  </div>`,
};
