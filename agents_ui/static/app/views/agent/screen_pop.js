// The screen-pop: who is calling (known or new, key account, special needs, their
// representative, language and notes), the hotline's running outages the caller heard
// of, and their open and past orders, each a link to the order with its state and its
// owner (首问负责制: the agent who registered it stays the citizen's contact for it);
// another hotline's order is one line without a link or details. The profile editor
// opens from here.

import { ref } from "vue";
import { useI18n } from "vue-i18n";
import { session } from "../../store.js";
import CallerProfile from "./caller_profile.js";

export default {
  components: { CallerProfile },
  props: { call: Object }, // the call being answered, or null
  emits: ["close", "profile"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const owner = (order) =>
      order.owner_id === session.user?.id
        ? t("firstContact.ownerYou")
        : t("firstContact.owner", { name: order.owner_name });
    const editing = ref(false);
    function saved(profile) {
      editing.value = false;
      emit("profile", profile);
    }
    return { t, owner, editing, saved };
  },
  template: `
  <el-card shadow="never" class="panel screen-pop" :class="{ ringing: call }" data-test="screen-pop">
    <template #header>
      <div class="panel-head">
        <span>{{ t('agent.screenPop') }}</span>
        <span v-if="call">
          <el-button size="small" @click="editing = true" data-test="edit-profile">{{ t('callerProfile.edit') }}</el-button>
          <el-button size="small" @click="$emit('close')">{{ t('app.close') }}</el-button>
        </span>
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
      <div v-if="call.caller.citizen?.representative || call.caller.citizen?.preferred_language" class="muted small">
        <span v-if="call.caller.citizen.representative" data-test="caller-representative">{{ t('callerProfile.representativeLine', { name: call.caller.citizen.representative }) }}<template
          v-if="call.caller.citizen.representative_unit">{{ t('callerProfile.unitNote', { unit: call.caller.citizen.representative_unit }) }}</template></span>
        <span v-if="call.caller.citizen.preferred_language"> · {{ t('callerProfile.languageLine', { language: t('callerProfile.languages.' + call.caller.citizen.preferred_language) }) }}</span>
      </div>
      <div v-if="call.caller.citizen?.notes" class="caller-notes small" data-test="caller-notes">{{ call.caller.citizen.notes }}</div>
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
          <template v-for="o in call.caller.open_orders" :key="o.number">
            <div v-if="o.other_hotline" class="history-row other-hotline" data-test="other-hotline-order">
              <span class="mono small">{{ o.number }}</span><StatusTag :status="o.status" />
              <span class="muted small">{{ t('callerProfile.otherHotline', { hotline: o.hotline_code }) }}</span></div>
            <a v-else class="history-row" :href="'#/orders/' + o.id" data-test="pop-open-order">
              <span class="mono small">{{ o.number }}</span><StatusTag :status="o.status" />
              <span v-if="o.owner_name" class="owner small" data-test="pop-owner">{{ owner(o) }}</span>
              <span class="ellipsis">{{ o.description }}</span></a>
          </template>
        </div>
        <div>
          <h4>{{ t('agent.pastOrders') }} ({{ call.caller.past_orders.length }})</h4>
          <div v-if="!call.caller.past_orders.length" class="muted small">{{ t('agent.noHistory') }}</div>
          <template v-for="o in call.caller.past_orders.slice(0, 5)" :key="o.number">
            <div v-if="o.other_hotline" class="history-row other-hotline" data-test="other-hotline-order">
              <span class="mono small">{{ o.number }}</span><StatusTag :status="o.status" />
              <span class="muted small">{{ t('callerProfile.otherHotline', { hotline: o.hotline_code }) }}</span></div>
            <a v-else class="history-row" :href="'#/orders/' + o.id">
              <span class="mono small">{{ o.number }}</span><StatusTag :status="o.status" />
              <span v-if="o.owner_name" class="owner small">{{ owner(o) }}</span>
              <span class="ellipsis">{{ o.description }}</span></a>
          </template>
        </div>
      </div>
    </div>
    <CallerProfile v-if="call" v-model="editing" :profile="call.caller" @saved="saved" />
  </el-card>`,
};
