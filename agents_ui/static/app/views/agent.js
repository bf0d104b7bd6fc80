// The agent console: status, the queue, taking a call and its screen-pop, order entry with
// a suggested service item, outage and duplicate hints, resolving on the call, drafts to
// confirm, manual callbacks to make (manual_callbacks.js), my orders. Each panel is a
// component under agent/; this screen holds the agent's status and the call, and the
// keyboard shortcuts (listed in agent.shortcuts) that reach across the panels.

import { onBeforeUnmount, onMounted, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { onAgentStatus, onCallEvent } from "../live.js";
import { errorText, session } from "../store.js";
import AgentStatus from "./agent/status.js";
import Drafts from "./agent/drafts.js";
import OrderEntry from "./agent/entry.js";
import MyOrders from "./agent/my_orders.js";
import WaitingCallers from "./agent/queue.js";
import ScreenPop from "./agent/screen_pop.js";
import ManualCallbacks from "./manual_callbacks.js";

export default {
  components: { AgentStatus, Drafts, ManualCallbacks, MyOrders, OrderEntry, ScreenPop, WaitingCallers },
  setup() {
    const { t } = useI18n();
    const status = ref("offline");
    const call = ref(null);
    const taking = ref(false);
    const queue = ref(null);
    const entry = ref(null);
    const mine = ref(null);
    // The panels' dialogs: while one is open the keys belong to it.
    const dialogs = reactive({ duplicates: false, draft: false, manual: false });

    async function loadStatus() {
      status.value = (await api.get("/api/v1/agents/me/status")).status;
    }
    async function setStatus(value) {
      try {
        status.value = (await api.put("/api/v1/agents/me/status", { status: value })).status;
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    function showCall(offer) {
      if (!offer || (call.value && call.value.call_id === offer.call_id)) return;
      call.value = offer;
      entry.value.answer(offer);
    }

    async function takeNext() {
      if (taking.value) return;
      taking.value = true;
      try {
        // Offline agents are offered no call: asking for one says the agent is here.
        if (status.value === "offline") await setStatus("available");
        const offer = await api.post("/api/v1/calls/next");
        if (!offer) {
          ElMessage.info(t("agent.nobodyWaiting"));
          return;
        }
        showCall(offer);
        await setStatus("busy");
        await queue.value.load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        taking.value = false;
      }
    }

    function endCall() {
      call.value = null;
      setStatus("after_call");
    }

    const reloadMine = () => mine.value.load();

    function onKey(event) {
      const dialogOpen = Object.values(dialogs).some(Boolean);
      if (event.key === "F2") {
        event.preventDefault();
        takeNext();
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !dialogOpen) {
        event.preventDefault();
        entry.value.register();
      } else if (event.altKey && ["1", "2", "3"].includes(event.key)) {
        event.preventDefault();
        entry.value.pick(Number(event.key) - 1);
      } else if (event.altKey && (event.key === "a" || event.key === "A")) {
        event.preventDefault();
        setStatus("available");
      } else if (event.altKey && (event.key === "w" || event.key === "W")) {
        event.preventDefault();
        setStatus("after_call");
      } else if (event.altKey && event.code === "KeyK" && !dialogOpen) {
        // By the key's place, not its letter: Option+K types "˚" on a Mac.
        event.preventDefault();
        entry.value.takeFirstArticle();
      } else if (event.key === "Escape" && !dialogOpen && document.activeElement?.tagName !== "INPUT") {
        entry.value.clear();
      }
    }

    const offCall = onCallEvent((event) => {
      if (event?.type === "call.offered") showCall(event);
    });
    // Set elsewhere: another tab of this agent, or a logout.
    const offStatus = onAgentStatus((event) => {
      if (event?.user_id === session.user?.id) status.value = event.status;
    });
    onMounted(async () => {
      window.addEventListener("keydown", onKey);
      await loadStatus();
    });
    onBeforeUnmount(() => {
      window.removeEventListener("keydown", onKey);
      offCall();
      offStatus();
    });

    return { t, status, call, taking, queue, entry, mine, dialogs, setStatus, takeNext, endCall, reloadMine };
  },
  template: `
  <div class="agent-grid">
    <aside class="col-left">
      <AgentStatus :status="status" :taking="taking" @status="setStatus" @take="takeNext" />
      <WaitingCallers ref="queue" />
      <Drafts @confirmed="reloadMine" @dialog="(open) => (dialogs.draft = open)" />
    </aside>

    <section class="col-main">
      <ScreenPop :call="call" @close="endCall" @profile="(p) => (call.caller = p)" />
      <OrderEntry ref="entry" :call="call" @saved="reloadMine" @dialog="(open) => (dialogs.duplicates = open)" />
      <p class="shortcuts">{{ t('agent.shortcuts') }} · {{ t('kbUi.shortcut') }}</p>
    </section>

    <aside class="col-right">
      <ManualCallbacks @dialog="(open) => (dialogs.manual = open)" />
      <MyOrders ref="mine" />
    </aside>
  </div>`,
};
