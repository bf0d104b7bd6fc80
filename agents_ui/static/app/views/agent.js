// The agent console: status, the queue, taking a call and its screen-pop, order entry with
// a suggested service item, outage and duplicate hints, resolving on the call, drafts to
// confirm, manual callbacks to make (manual_callbacks.js), my orders. Usable from the
// keyboard (shortcuts in agent.shortcuts).

import { computed, nextTick, onBeforeUnmount, onMounted, reactive, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { debounce, onCallEvent } from "../live.js";
import { errorText, fmtDuration, go, nameOf, now, refs, session } from "../store.js";
import { ORDER_KINDS } from "../vocab.js";
import { useLiveReload } from "./common.js";
import ManualCallbacks from "./manual_callbacks.js";
import { AreaSelect, ItemSelect } from "./pickers.js";

function newRequestId() {
  return `web-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

function emptyForm(hotline) {
  return {
    hotline: hotline || "",
    description: "",
    service_item: "",
    kind: "",
    priority: "normal",
    area: "",
    address: "",
    caller_phone: "",
    caller_name: "",
    resolve: false,
    reply: "",
    request_id: newRequestId(),
  };
}

// Suggested items for a description (server: jieba with the catalogue's keywords).
export function useSuggestions(textRef) {
  const suggestions = ref([]);
  const fetchSuggestions = debounce(async (text) => {
    if (!text || text.trim().length < 2) {
      suggestions.value = [];
      return;
    }
    try {
      const data = await api.get("/api/v1/service-items/suggest", { text });
      suggestions.value = data.items;
    } catch {
      suggestions.value = [];
    }
  }, 350);
  watch(textRef, (text) => fetchSuggestions(text));
  return suggestions;
}

export default {
  components: { ItemSelect, AreaSelect, ManualCallbacks },
  setup() {
    const { t } = useI18n();
    const user = session.user;
    const status = ref("offline");
    const queue = ref([]);
    const drafts = ref([]);
    const myOrders = ref([]);
    const outages = ref([]);
    const call = ref(null);
    const taking = ref(false);
    const saving = ref(false);
    const form = reactive(emptyForm(user.hotline));
    const duplicates = reactive({ open: false, order: null, items: [] });
    const draftDialog = reactive({ open: false, draft: null, form: {}, saving: false });
    const manualOpen = ref(false);
    const descriptionInput = ref(null);
    const suggestions = useSuggestions(() => form.description);
    const draftSuggestions = useSuggestions(() => draftDialog.draft?.description || "");

    const item = computed(() => refs.itemsByCode[form.service_item]);
    watch(
      () => form.service_item,
      (code) => {
        const chosen = refs.itemsByCode[code];
        if (chosen) form.kind = chosen.kind;
      },
    );

    // Outages covering the chosen area (or its district), of the item's utility.
    const outageHints = computed(() => {
      if (!form.area) return [];
      const area = refs.areas[form.area];
      const codes = new Set([form.area, area?.parent_code].filter(Boolean));
      return outages.value.filter(
        (o) =>
          o.area_codes.some((c) => codes.has(c) || refs.areas[c]?.parent_code === form.area) &&
          (!item.value || !item.value.domain || item.value.domain === o.domain),
      );
    });

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
    async function loadQueue() {
      queue.value = (await api.get("/api/v1/calls/waiting")).items;
    }
    async function loadDrafts() {
      const query = { status: "draft", limit: 20 };
      if (user.role === "agent" && user.hotline) query.hotline = user.hotline;
      drafts.value = (await api.get("/api/v1/orders", query)).items;
    }
    async function loadMine() {
      myOrders.value = (await api.get("/api/v1/agents/me/orders", { limit: 30 })).items;
    }
    async function loadOutages() {
      outages.value = (await api.get("/api/v1/outages")).items;
    }
    const loadAll = () => Promise.all([loadQueue(), loadDrafts(), loadMine(), loadOutages()]);

    useLiveReload(() => Promise.all([loadDrafts(), loadMine()]));

    function showCall(offer) {
      if (!offer || (call.value && call.value.call_id === offer.call_id)) return;
      call.value = offer;
      const caller = offer.caller || {};
      const citizen = caller.citizen || {};
      Object.assign(form, emptyForm(offer.hotline || user.hotline), {
        caller_phone: caller.phone || "",
        caller_name: citizen.name || "",
        area: citizen.area_code || "",
        address: citizen.address || "",
      });
      nextTick(() => descriptionInput.value?.focus());
    }

    async function takeNext() {
      if (taking.value) return;
      taking.value = true;
      try {
        const offer = await api.post("/api/v1/calls/next");
        if (!offer) {
          ElMessage.info(t("agent.nobodyWaiting"));
          return;
        }
        showCall(offer);
        await setStatus("busy");
        await loadQueue();
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

    function clearForm() {
      Object.assign(form, emptyForm(call.value?.hotline || user.hotline), {
        caller_phone: form.caller_phone && call.value ? form.caller_phone : "",
        caller_name: call.value ? form.caller_name : "",
      });
      suggestions.value = [];
    }

    function pick(index) {
      const chosen = suggestions.value[index];
      if (chosen) form.service_item = chosen.code;
    }

    function missing() {
      const need = [
        ["hotline", "agent.hotline"],
        ["description", "agent.description"],
        ["service_item", "agent.serviceItem"],
      ];
      if (form.resolve) need.push(["reply", "agent.reply"]);
      const gap = need.find(([field]) => !String(form[field] || "").trim());
      return gap ? t("agent.required", { field: t(gap[1]) }) : null;
    }

    async function register() {
      const problem = missing();
      if (problem) {
        ElMessage.warning(problem);
        return;
      }
      saving.value = true;
      const body = {
        hotline: form.hotline,
        service_item: form.service_item,
        description: form.description,
        priority: form.priority,
        address: form.address,
        caller_name: form.caller_name,
        client_request_id: form.request_id,
      };
      if (form.kind) body.kind = form.kind;
      if (form.area) body.area = form.area;
      if (form.caller_phone) body.caller_phone = form.caller_phone;
      try {
        let order;
        if (form.resolve) {
          order = await api.post("/api/v1/orders/resolved-on-call", { ...body, reply: form.reply });
          ElMessage.success(t("agent.resolved", { number: order.number }));
        } else {
          order = await api.post("/api/v1/orders", body);
          ElMessage.success(t("agent.registered", { number: order.number }));
          if (order.possible_duplicates?.length) {
            Object.assign(duplicates, { open: true, order, items: order.possible_duplicates });
          }
        }
        clearForm();
        await loadMine();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        saving.value = false;
      }
    }

    async function merge(parent) {
      try {
        await api.post(`/api/v1/orders/${duplicates.order.id}/merge`, { parent_id: parent.id });
        ElMessage.success(t("agent.merged", { number: parent.number }));
        duplicates.open = false;
        await loadMine();
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    function openDraft(draft) {
      Object.assign(draftDialog, {
        open: true,
        draft,
        form: {
          service_item: draft.service_item_code || "",
          area: draft.area_code || "",
          address: draft.address || "",
          caller_name: draft.caller_name || "",
          priority: draft.priority || "normal",
        },
      });
    }

    async function confirmDraft() {
      const f = draftDialog.form;
      if (!f.service_item) {
        ElMessage.warning(t("agent.required", { field: t("agent.serviceItem") }));
        return;
      }
      draftDialog.saving = true;
      const body = { service_item: f.service_item, priority: f.priority, address: f.address };
      if (f.area) body.area = f.area;
      if (f.caller_name) body.caller_name = f.caller_name;
      try {
        const order = await api.post(`/api/v1/orders/${draftDialog.draft.id}/confirm`, body);
        ElMessage.success(t("agent.registered", { number: order.number }));
        draftDialog.open = false;
        await Promise.all([loadDrafts(), loadMine()]);
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        draftDialog.saving = false;
      }
    }

    function onKey(event) {
      const dialogOpen = duplicates.open || draftDialog.open || manualOpen.value;
      if (event.key === "F2") {
        event.preventDefault();
        takeNext();
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !dialogOpen) {
        event.preventDefault();
        register();
      } else if (event.altKey && ["1", "2", "3"].includes(event.key)) {
        event.preventDefault();
        pick(Number(event.key) - 1);
      } else if (event.altKey && (event.key === "a" || event.key === "A")) {
        event.preventDefault();
        setStatus("available");
      } else if (event.altKey && (event.key === "w" || event.key === "W")) {
        event.preventDefault();
        setStatus("after_call");
      } else if (event.key === "Escape" && !dialogOpen && document.activeElement?.tagName !== "INPUT") {
        clearForm();
      }
    }

    const offCall = onCallEvent((event) => {
      if (event?.type === "call.offered") showCall(event);
    });
    let queueTimer = null;
    onMounted(async () => {
      window.addEventListener("keydown", onKey);
      await Promise.all([loadStatus(), loadAll()]);
      queueTimer = setInterval(loadQueue, 5000);
    });
    onBeforeUnmount(() => {
      window.removeEventListener("keydown", onKey);
      clearInterval(queueTimer);
      offCall();
    });

    const waited = (row) => fmtDuration(now.value - new Date(row.queued_at).getTime());
    const open = (order) => go(`/orders/${order.id}`);

    return {
      t, user, refs, status, queue, drafts, myOrders, call, taking, saving, form, item,
      suggestions, draftSuggestions, outageHints, duplicates, draftDialog, descriptionInput,
      ORDER_KINDS, nameOf, setStatus, takeNext, endCall, clearForm, pick, register, merge,
      openDraft, confirmDraft, waited, open, manualOpen,
    };
  },
  template: `
  <div class="agent-grid">
    <aside class="col-left">
      <el-card shadow="never" class="panel">
        <template #header><div class="panel-head"><span>{{ t('agent.status') }}</span></div></template>
        <el-radio-group :model-value="status" class="status-group" data-test="agent-status"
                        @update:model-value="setStatus">
          <el-radio-button value="available">{{ t('agentStatus.available') }}</el-radio-button>
          <el-radio-button value="busy">{{ t('agentStatus.busy') }}</el-radio-button>
          <el-radio-button value="after_call">{{ t('agentStatus.after_call') }}</el-radio-button>
          <el-radio-button value="offline">{{ t('agentStatus.offline') }}</el-radio-button>
        </el-radio-group>
        <el-button type="primary" size="large" class="take-call" :loading="taking" data-test="take-call"
                   @click="takeNext">{{ t('agent.takeNext') }} <kbd>F2</kbd></el-button>
      </el-card>

      <el-card shadow="never" class="panel">
        <template #header>
          <div class="panel-head"><span>{{ t('agent.queue') }}</span>
            <el-tag disable-transitions size="small" :type="queue.length ? 'warning' : 'info'" round>{{ queue.length }}</el-tag></div>
        </template>
        <div v-if="!queue.length" class="empty-line">{{ t('agent.queueEmpty') }}</div>
        <ul v-else class="plain-list">
          <li v-for="c in queue" :key="c.id" class="queue-row">
            <span class="mono">{{ c.from_phone }}</span>
            <span class="muted">{{ c.hotline_code }} · {{ t('agent.waited', { t: waited(c) }) }}</span>
          </li>
        </ul>
      </el-card>

      <el-card shadow="never" class="panel">
        <template #header>
          <div class="panel-head"><span>{{ t('agent.drafts') }}</span>
            <el-tag disable-transitions size="small" :type="drafts.length ? 'danger' : 'info'" round>{{ drafts.length }}</el-tag></div>
        </template>
        <div v-if="!drafts.length" class="empty-line">{{ t('agent.draftsEmpty') }}</div>
        <ul v-else class="plain-list" data-test="drafts">
          <li v-for="d in drafts" :key="d.id" class="draft-row" tabindex="0"
              @click="openDraft(d)" @keyup.enter="openDraft(d)">
            <div class="draft-head">
              <el-tag disable-transitions size="small" effect="plain">{{ t('channel.' + d.channel) }}</el-tag>
              <span class="mono small">{{ d.number }}</span>
              <span class="muted small">{{ $fmtTime(d.created_at) }}</span>
            </div>
            <div class="draft-text" data-test="draft-text">{{ d.description }}</div>
          </li>
        </ul>
      </el-card>
    </aside>

    <section class="col-main">
      <el-card shadow="never" class="panel screen-pop" :class="{ ringing: call }" data-test="screen-pop">
        <template #header>
          <div class="panel-head">
            <span>{{ t('agent.screenPop') }}</span>
            <el-button v-if="call" size="small" @click="endCall">{{ t('app.close') }}</el-button>
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
            <span class="muted">{{ t('agent.hotline') }} {{ call.hotline }}</span>
          </div>
          <div class="caller-history">
            <div>
              <h4>{{ t('agent.openOrders') }} ({{ call.caller.open_orders.length }})</h4>
              <div v-if="!call.caller.open_orders.length" class="muted small">{{ t('agent.noHistory') }}</div>
              <a v-for="o in call.caller.open_orders" :key="o.id" class="history-row" :href="'#/orders/' + o.id">
                <span class="mono small">{{ o.number }}</span><StatusTag :status="o.status" />
                <span class="ellipsis">{{ o.description }}</span></a>
            </div>
            <div>
              <h4>{{ t('agent.pastOrders') }} ({{ call.caller.past_orders.length }})</h4>
              <div v-if="!call.caller.past_orders.length" class="muted small">{{ t('agent.noHistory') }}</div>
              <a v-for="o in call.caller.past_orders.slice(0, 5)" :key="o.id" class="history-row" :href="'#/orders/' + o.id">
                <span class="mono small">{{ o.number }}</span><StatusTag :status="o.status" />
                <span class="ellipsis">{{ o.description }}</span></a>
            </div>
          </div>
        </div>
      </el-card>

      <el-card shadow="never" class="panel entry">
        <template #header><div class="panel-head"><span>{{ t('agent.entry') }}</span>
          <span class="muted small">{{ form.hotline }}</span></div></template>
        <el-form label-position="top" class="entry-form" @submit.prevent="register">
          <el-form-item :label="t('agent.description')" class="span-2" required>
            <el-input ref="descriptionInput" v-model="form.description" type="textarea" :rows="3"
                      :placeholder="t('agent.descriptionHint')" maxlength="4000" data-test="description" />
          </el-form-item>
          <div class="span-2 suggest-line" data-test="suggestions">
            <span class="muted small">{{ t('agent.suggested') }}:</span>
            <span v-if="!suggestions.length" class="muted small">{{ t('agent.noSuggestion') }}</span>
            <el-button v-for="(s, i) in suggestions" :key="s.code" size="small" round
                       :type="form.service_item === s.code ? 'primary' : 'default'"
                       :data-code="s.code" @click="pick(i)">
              <kbd>Alt+{{ i + 1 }}</kbd> {{ nameOf(s) }}
            </el-button>
          </div>
          <el-form-item :label="t('agent.serviceItem')" required>
            <ItemSelect v-model="form.service_item" :placeholder="t('agent.searchItem')" />
          </el-form-item>
          <el-form-item :label="t('agent.hotline')" required>
            <el-select v-model="form.hotline" class="full" data-test="hotline-select">
              <el-option v-for="h in refs.hotlines" :key="h.code" :value="h.code" :label="h.code + ' ' + nameOf(h)" />
            </el-select>
          </el-form-item>
          <el-form-item :label="t('agent.kind')">
            <el-select v-model="form.kind" class="full">
              <el-option v-for="k in ORDER_KINDS" :key="k" :value="k" :label="t('kind.' + k)" />
            </el-select>
          </el-form-item>
          <el-form-item :label="t('agent.priority')">
            <el-radio-group v-model="form.priority">
              <el-radio-button value="normal">{{ t('priority.normal') }}</el-radio-button>
              <el-radio-button value="urgent">{{ t('priority.urgent') }}</el-radio-button>
            </el-radio-group>
          </el-form-item>
          <el-form-item :label="t('agent.area')">
            <AreaSelect v-model="form.area" :placeholder="t('agent.areaHint')" />
          </el-form-item>
          <el-form-item :label="t('agent.address')">
            <el-input v-model="form.address" maxlength="300" data-test="address" />
          </el-form-item>
          <el-alert v-for="o in outageHints" :key="o.id" type="warning" show-icon :closable="false"
                    class="span-2" data-test="outage-hint"
                    :title="t('agent.outage') + ' · ' + t('agent.outageHint', { title: o.title, start: $fmtTime(o.starts_at), end: $fmtTime(o.ends_at) })" />
          <el-form-item :label="t('agent.callerPhone')">
            <el-input v-model="form.caller_phone" maxlength="32" class="mono" data-test="caller-phone-input" />
          </el-form-item>
          <el-form-item :label="t('agent.callerName')">
            <el-input v-model="form.caller_name" maxlength="64" />
          </el-form-item>
          <div class="span-2 resolve-line">
            <el-checkbox v-model="form.resolve" data-test="resolve-toggle">{{ t('agent.resolveOnCall') }}</el-checkbox>
          </div>
          <el-form-item v-if="form.resolve" :label="t('agent.reply')" class="span-2" required>
            <el-input v-model="form.reply" type="textarea" :rows="2" :placeholder="t('agent.replyHint')" />
          </el-form-item>
          <div class="span-2 form-actions">
            <el-button type="primary" size="large" native-type="submit" :loading="saving" data-test="register">
              {{ form.resolve ? t('agent.resolveOnCall') : t('agent.register') }} <kbd>Ctrl+Enter</kbd></el-button>
            <el-button size="large" @click="clearForm">{{ t('agent.clear') }}</el-button>
          </div>
        </el-form>
      </el-card>
      <p class="shortcuts">{{ t('agent.shortcuts') }}</p>
    </section>

    <aside class="col-right">
      <ManualCallbacks @dialog="(open) => (manualOpen = open)" />
      <el-card shadow="never" class="panel">
        <template #header><div class="panel-head"><span>{{ t('agent.myOrders') }}</span>
          <span class="muted small">{{ t('app.items', { n: myOrders.length }) }}</span></div></template>
        <div v-if="!myOrders.length" class="empty-line">{{ t('agent.myOrdersEmpty') }}</div>
        <ul v-else class="plain-list" data-test="my-orders">
          <li v-for="o in myOrders" :key="o.id" class="order-row" tabindex="0" @click="open(o)" @keyup.enter="open(o)">
            <div class="order-row-head"><span class="mono small">{{ o.number }}</span><StatusTag :status="o.status" /></div>
            <div class="order-row-item">{{ $itemName(o.service_item_code) }}</div>
            <div class="muted small ellipsis">{{ o.address || o.description }}</div>
          </li>
        </ul>
      </el-card>
    </aside>

    <el-dialog v-model="duplicates.open" :title="t('agent.duplicates')" width="640px">
      <p class="muted">{{ t('agent.duplicatesHint') }}</p>
      <el-table :data="duplicates.items" size="small">
        <el-table-column :label="t('order.details')" min-width="200">
          <template #default="{ row }"><a :href="'#/orders/' + row.id" class="mono">{{ row.number }}</a>
            <div class="muted small">{{ row.address }}</div></template>
        </el-table-column>
        <el-table-column :label="t('unit.state')" width="110">
          <template #default="{ row }"><StatusTag :status="row.status" /></template>
        </el-table-column>
        <el-table-column width="130">
          <template #default="{ row }"><el-button size="small" type="warning" @click="merge(row)">{{ t('agent.merge') }}</el-button></template>
        </el-table-column>
      </el-table>
    </el-dialog>

    <el-dialog v-model="draftDialog.open" :title="t('agent.confirmDraft') + ' ' + (draftDialog.draft?.number || '')" width="680px">
      <template v-if="draftDialog.draft">
        <div class="draft-body">
          <el-tag disable-transitions size="small" effect="plain">{{ t('channel.' + draftDialog.draft.channel) }}</el-tag>
          <span class="mono small">{{ draftDialog.draft.caller_phone || '' }}</span>
          <p class="draft-text full-text" data-test="draft-dialog-text">{{ draftDialog.draft.description }}</p>
        </div>
        <div class="suggest-line">
          <span class="muted small">{{ t('agent.suggested') }}:</span>
          <el-button v-for="s in draftSuggestions" :key="s.code" size="small" round
                     :type="draftDialog.form.service_item === s.code ? 'primary' : 'default'"
                     @click="draftDialog.form.service_item = s.code">{{ nameOf(s) }}</el-button>
        </div>
        <el-form label-position="top" class="entry-form">
          <el-form-item :label="t('agent.serviceItem')" required>
            <ItemSelect v-model="draftDialog.form.service_item" :placeholder="t('agent.searchItem')" />
          </el-form-item>
          <el-form-item :label="t('agent.area')"><AreaSelect v-model="draftDialog.form.area" :placeholder="t('agent.areaHint')" /></el-form-item>
          <el-form-item :label="t('agent.address')"><el-input v-model="draftDialog.form.address" maxlength="300" /></el-form-item>
          <el-form-item :label="t('agent.callerName')"><el-input v-model="draftDialog.form.caller_name" maxlength="64" /></el-form-item>
        </el-form>
      </template>
      <template #footer>
        <el-button @click="draftDialog.open = false">{{ t('app.cancel') }}</el-button>
        <el-button type="primary" :loading="draftDialog.saving" @click="confirmDraft">{{ t('agent.register') }}</el-button>
      </template>
    </el-dialog>
  </div>`,
};
