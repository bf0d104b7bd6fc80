// The orders the agent owns (首问负责制: it registered them), newest first, with how each
// ended: completed, the citizen's callback rating, reopened. Each opens its order page.
// When a unit completes one, or its callback is answered, or it is reopened, the owner
// gets a notice as the live event arrives.

import { onBeforeUnmount, onMounted, ref } from "vue";
import { ElNotification } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { onOrderEvent } from "../../live.js";
import { go, session } from "../../store.js";
import { useLiveReload } from "../common.js";

// Live event types the owner hears of, and the notice each gives.
const NOTICES = {
  "order.complete": { key: "completed", type: "success" },
  "callback.answered": { key: "rated", type: "info" },
  "order.reopen": { key: "reopened", type: "warning" },
};

export default {
  setup(props, { expose }) {
    const { t } = useI18n();
    const myOrders = ref([]);
    const mine = (event) => event.owner_id === session.user?.id;

    async function load() {
      myOrders.value = (await api.get("/api/v1/agents/me/orders", { limit: 30 })).items;
    }
    useLiveReload(load, { accept: mine });
    onMounted(load);
    // The console reloads the list when the agent registers, merges or confirms an order.
    expose({ load });

    // Replayed events are old news after a reconnect: the reloaded list shows them.
    const off = onOrderEvent((event, meta) => {
      const notice = NOTICES[event.type];
      if (!notice || !mine(event) || meta?.replayed) return;
      const rating = event.data?.rating;
      ElNotification({
        title: t(`firstContact.notice.${notice.key}`),
        message: rating
          ? t("firstContact.noticeRated", { number: event.number, level: t(`rating.${rating}`) })
          : event.number,
        type: notice.type,
        customClass: "owner-notice",
      });
    });
    onBeforeUnmount(off);

    const open = (order) => go(`/orders/${order.id}`);
    const good = (answer) => answer.rating >= 3 && answer.solved !== false;
    return { t, myOrders, open, good };
  },
  template: `
  <el-card shadow="never" class="panel">
    <template #header><div class="panel-head"><span>{{ t('agent.myOrders') }}</span>
      <span class="muted small">{{ t('app.items', myOrders.length) }}</span></div></template>
    <div v-if="!myOrders.length" class="empty-line">{{ t('agent.myOrdersEmpty') }}</div>
    <ul v-else class="plain-list" data-test="my-orders">
      <li v-for="o in myOrders" :key="o.id" class="order-row" tabindex="0" @click="open(o)" @keyup.enter="open(o)">
        <div class="order-row-head"><span class="mono small">{{ o.number }}</span><StatusTag :status="o.status" /></div>
        <div class="order-row-item">{{ $itemName(o.service_item_code) }}</div>
        <div class="muted small ellipsis">{{ o.address || o.description }}</div>
        <div v-if="o.completed_at || o.redo_count || o.answer" class="outcome-line" data-test="my-outcome">
          <span v-if="o.completed_at" class="muted small">{{ t('firstContact.completedAt', { at: $fmtTime(o.completed_at) }) }}</span>
          <el-tag v-if="o.answer?.rating" disable-transitions size="small" :type="good(o.answer) ? 'success' : 'danger'">
            {{ t('firstContact.rated', { level: t('rating.' + o.answer.rating) }) }}</el-tag>
          <el-tag v-if="o.redo_count" disable-transitions size="small" type="warning">{{ t('firstContact.redone', { n: o.redo_count }) }}</el-tag>
        </div>
      </li>
    </ul>
  </el-card>`,
};
