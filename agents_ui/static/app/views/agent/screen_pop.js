// The screen-pop: who is calling (known or new, key account, special needs), the
// hotline's running outages the caller heard of, and their open and past orders, each a
// link to the order with its state and its owner (首问负责制: the agent who registered
// it stays the citizen's contact for it).

import { useI18n } from "vue-i18n";
import { session } from "../../store.js";

export default {
  props: { call: Object }, // the call being answered, or null
  emits: ["close"],
  setup() {
    const { t } = useI18n();
    const owner = (order) =>
      order.owner_id === session.user?.id
        ? t("firstContact.ownerYou")
        : t("firstContact.owner", { name: order.owner_name });
    return { t, owner };
  },
  template: `
  <el-card shadow="never" class="panel screen-pop" :class="{ ringing: call }" data-test="screen-pop">
    <template #header>
      <div class="panel-head">
        <span>{{ t('agent.screenPop') }}</span>
        <el-button v-if="call" size="small" @click="$emit('close')">{{ t('app.close') }}</el-button>
      </div>
    </template>
    <div v-if="!call" class="empty-line">{{ t('agent.noCall') }}</div>
    <div v-else class="caller">
      <div class="caller-id">
        <span class="caller-phone mono" data-test="caller-phone">{{ call.caller.phone }}</span>
        <span class="caller-name">{{ call.caller.citizen?.name || '' }}</span>
        <el-tag disable-transitions size="small" :type="call.caller.known ? 'success' : 'info'">
          {{ call.caller.known ? t('agent.knownCaller') : t('agent.newCaller') }}</el-tag>
        <el-tag disable-transitions v-if="call.caller.citizen?.key_account" size="small" type="warning">{{ t('agent.keyAccount') }}</el-tag>
        <el-tag disable-transitions v-if="call.caller.citizen?.special_needs" size="small" type="danger">{{ t('agent.specialNeeds') }}</el-tag>
        <span class="muted">{{ t('agent.hotline') }} {{ call.hotline_code }}</span>
      </div>
      <div v-if="call.outages?.length" class="pop-outages" data-test="pop-outages">
        <h4>{{ t('firstContact.outagesNow') }} ({{ call.outages.length }})</h4>
        <div v-for="o in call.outages" :key="o.id" class="pop-outage">
          <el-tag disable-transitions size="small" type="warning">{{ t('domain.' + o.domain) }}</el-tag>
          <span class="ellipsis">{{ t('firstContact.outageLine', { title: o.title, end: $fmtTime(o.ends_at) }) }}</span>
        </div>
      </div>
      <div class="caller-history">
        <div>
          <h4>{{ t('agent.openOrders') }} ({{ call.caller.open_orders.length }})</h4>
          <div v-if="!call.caller.open_orders.length" class="muted small">{{ t('agent.noHistory') }}</div>
          <a v-for="o in call.caller.open_orders" :key="o.id" class="history-row" :href="'#/orders/' + o.id" data-test="pop-open-order">
            <span class="mono small">{{ o.number }}</span><StatusTag :status="o.status" />
            <span v-if="o.owner_name" class="owner small" data-test="pop-owner">{{ owner(o) }}</span>
            <span class="ellipsis">{{ o.description }}</span></a>
        </div>
        <div>
          <h4>{{ t('agent.pastOrders') }} ({{ call.caller.past_orders.length }})</h4>
          <div v-if="!call.caller.past_orders.length" class="muted small">{{ t('agent.noHistory') }}</div>
          <a v-for="o in call.caller.past_orders.slice(0, 5)" :key="o.id" class="history-row" :href="'#/orders/' + o.id">
            <span class="mono small">{{ o.number }}</span><StatusTag :status="o.status" />
            <span v-if="o.owner_name" class="owner small">{{ owner(o) }}</span>
            <span class="ellipsis">{{ o.description }}</span></a>
        </div>
      </div>
    </div>
  </el-card>`,
};
