// The orders the agent registered, newest first; each opens its order page.

import { onMounted, ref } from "vue";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { go } from "../../store.js";
import { useLiveReload } from "../common.js";

export default {
  setup(props, { expose }) {
    const { t } = useI18n();
    const myOrders = ref([]);

    async function load() {
      myOrders.value = (await api.get("/api/v1/agents/me/orders", { limit: 30 })).items;
    }
    useLiveReload(load);
    onMounted(load);
    // The console reloads the list when the agent registers, merges or confirms an order.
    expose({ load });

    const open = (order) => go(`/orders/${order.id}`);
    return { t, myOrders, open };
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
      </li>
    </ul>
  </el-card>`,
};
