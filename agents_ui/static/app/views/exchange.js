// The exchange with the 12345 platform (docs/exchange.md) as the centre sees it: an
// exchanged order's section on the order page (the platform, its number and limits,
// every message sent with its attempts), the transfer dialog (转办), and the list of
// messages a platform did not take, each sent again by a supervisor.

import { computed, onMounted, reactive, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { errorText, nameOf, now, session } from "../store.js";
import { SUPERVISOR_ROLES } from "../vocab.js";

// The events and states the API names (integrations/exchange/feed.py, the CHECK of
// exchange_messages.state), in words when the texts have them.
function useWords() {
  const { t, te } = useI18n();
  const word = (block, value) => (te(`exchangeUi.${block}.${value}`) ? t(`exchangeUi.${block}.${value}`) : value);
  return { t, word };
}

const STATE_TAGS = { waiting: "info", pending: "warning", delivered: "success", failed: "danger" };

// Sends a failed message again; true when the server took it.
async function retryMessage(id, t) {
  try {
    await api.post(`/api/v1/exchange/messages/${id}/retry`);
    ElMessage.success(t("exchangeUi.retried"));
    return true;
  } catch (e) {
    ElMessage.error(errorText(e));
    return false;
  }
}

const mayRetry = () => SUPERVISOR_ROLES.includes(session.user?.role);

// What the platform answered, as text (its acknowledgement is JSON of its own making).
const answerText = (answer) =>
  answer === null || answer === undefined ? "" : typeof answer === "string" ? answer : JSON.stringify(answer);

// GET /api/v1/orders/{id}/exchange, shown for an exchanged order; `changed` after a retry.
export const ExchangeSection = {
  props: { exchange: Object, order: Object },
  emits: ["changed"],
  setup(props, { emit }) {
    const { t, word } = useWords();
    const info = computed(() => props.exchange?.exchange);
    const messages = computed(() => props.exchange?.messages || []);
    // A limit is missed when what it asks for came after it, or has not come and it has
    // passed; an order passed on is no longer ours to keep in time.
    const missed = (due, doneAt) => {
      if (!due || props.order?.status === "transferred") return false;
      const done = doneAt ? Date.parse(doneAt) : now.value;
      return done > Date.parse(due);
    };
    const signedAt = computed(() => {
      const times = (props.order?.dispatches || []).map((d) => d.signed_at).filter(Boolean).sort();
      return times[0] || null;
    });
    const limits = computed(() => [
      { key: "signFor", due: info.value?.sign_for_due_at, late: missed(info.value?.sign_for_due_at, signedAt.value) },
      {
        key: "resolution", due: info.value?.resolution_due_at,
        late: missed(info.value?.resolution_due_at, props.order?.completed_at),
      },
    ]);
    const platformName = computed(() =>
      info.value ? nameOf({ name_zh: info.value.platform_name_zh, name_en: info.value.platform_name_en }) : "");
    async function retry(row) {
      if (await retryMessage(row.id, t)) emit("changed");
    }
    const attemptResult = (a) => (a.status_code ? `HTTP ${a.status_code}` : a.error || "—");
    return { t, word, info, messages, limits, platformName, retry, mayRetry, answerText, attemptResult, STATE_TAGS };
  },
  template: `
  <el-card v-if="info" shadow="never" class="panel" data-test="exchange">
    <template #header><div class="panel-head"><span>{{ t('exchangeUi.title') }}</span>
      <span class="muted small">{{ t('app.items', messages.length) }}</span></div></template>
    <el-descriptions :column="2" border size="small" class="details">
      <el-descriptions-item :label="t('exchangeUi.platform')">{{ platformName }} <span class="muted mono small">{{ info.platform_code }}</span></el-descriptions-item>
      <el-descriptions-item :label="t('exchangeUi.direction')"><span data-test="exchange-direction">{{ word('directions', info.direction) }}</span></el-descriptions-item>
      <el-descriptions-item :label="t('exchangeUi.platformNumber')">
        <span v-if="info.platform_number" class="mono" data-test="exchange-number">{{ info.platform_number }}</span>
        <span v-else class="muted">{{ t('exchangeUi.numberAwaited') }}</span></el-descriptions-item>
      <el-descriptions-item :label="t('exchangeUi.classification')"><span class="mono">{{ info.classification_code || '—' }}</span></el-descriptions-item>
      <el-descriptions-item v-if="(info.attachments || []).length" :label="t('exchangeUi.attachments')" :span="2">
        <a v-for="(a, i) in info.attachments" :key="i" :href="a.url" target="_blank" rel="noopener noreferrer" class="inline-link" data-test="exchange-attachment">{{ a.name || a.url }}</a>
      </el-descriptions-item>
      <el-descriptions-item v-for="l in limits" :key="l.key" :label="t('exchangeUi.' + l.key + 'Due')">
        <span :data-test="'exchange-' + l.key">{{ l.due ? $fmtTime(l.due, true) : t('exchangeUi.noLimit') }}</span>
        <el-tag v-if="l.late" disable-transitions size="small" type="danger" class="inline-tag" data-test="exchange-late">{{ t('exchangeUi.overdue') }}</el-tag>
      </el-descriptions-item>
    </el-descriptions>
    <h4 class="sub-head">{{ t('exchangeUi.messages') }}</h4>
    <el-table :data="messages" size="small" row-key="id" :empty-text="t('exchangeUi.noMessages')" data-test="exchange-messages">
      <el-table-column type="expand">
        <template #default="{ row }">
          <el-table :data="row.attempts" size="small" class="attempts" :empty-text="t('exchangeUi.noAttempts')">
            <el-table-column :label="t('exchangeUi.attemptAt')" width="150"><template #default="a">{{ $fmtTime(a.row.attempted_at, true) }}</template></el-table-column>
            <el-table-column :label="t('exchangeUi.result')" min-width="200"><template #default="a"><span class="mono small" data-test="attempt-result">{{ attemptResult(a.row) }}</span></template></el-table-column>
            <el-table-column :label="t('exchangeUi.duration')" width="90" align="right"><template #default="a">{{ a.row.duration_ms }} ms</template></el-table-column>
          </el-table>
        </template>
      </el-table-column>
      <el-table-column label="#" prop="seq" width="46" />
      <el-table-column :label="t('exchangeUi.what')" min-width="100"><template #default="{ row }"><span data-test="message-event">{{ word('events', row.event) }}</span></template></el-table-column>
      <el-table-column :label="t('exchangeUi.state')" width="96"><template #default="{ row }">
        <el-tag disable-transitions size="small" :type="STATE_TAGS[row.state] || 'info'" :data-state="row.state" data-test="message-state">{{ word('states', row.state) }}</el-tag></template></el-table-column>
      <el-table-column :label="t('exchangeUi.deliveredAt')" width="140"><template #default="{ row }">{{ row.delivered_at ? $fmtTime(row.delivered_at, true) : '—' }}</template></el-table-column>
      <el-table-column :label="t('exchangeUi.tries')" width="80" align="center" prop="tries" />
      <el-table-column :label="t('exchangeUi.answer')" min-width="140"><template #default="{ row }"><span class="mono small">{{ answerText(row.answer) || '—' }}</span></template></el-table-column>
      <el-table-column v-if="mayRetry()" width="116"><template #default="{ row }">
        <el-button v-if="row.state === 'failed'" size="small" type="warning" plain data-test="message-retry" @click="retry(row)">{{ t('exchangeUi.retry') }}</el-button></template></el-table-column>
    </el-table>
  </el-card>`,
};

// 转办: the platforms the order may go to (a received order: only back to its own), a
// reason, POST /api/v1/orders/{id}/transfer; `done` with the transferred order.
export const TransferDialog = {
  props: { modelValue: Boolean, order: Object, exchange: Object },
  emits: ["update:modelValue", "done"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const platforms = ref([]);
    const form = reactive({ platform: "", reason: "", saving: false, errors: {} });
    const received = computed(() => props.exchange?.exchange?.direction === "in" ? props.exchange.exchange : null);
    watch(
      () => props.modelValue,
      async (open) => {
        if (!open) return;
        Object.assign(form, { platform: received.value?.platform_code || "", reason: "", errors: {} });
        try {
          platforms.value = (await api.get("/api/v1/exchange/destinations")).items;
        } catch (e) {
          ElMessage.error(errorText(e));
        }
        if (!form.platform && platforms.value.length === 1) form.platform = platforms.value[0].code;
      },
    );
    const choices = computed(() =>
      received.value ? platforms.value.filter((p) => p.code === received.value.platform_code) : platforms.value);
    const close = () => emit("update:modelValue", false);
    async function submit() {
      form.errors = {};
      if (!form.platform) form.errors.platform = t("exchangeUi.platformNeeded");
      if (!form.reason.trim()) form.errors.reason = t("exchangeUi.reasonNeeded");
      if (Object.keys(form.errors).length) return;
      form.saving = true;
      try {
        const order = await api.post(`/api/v1/orders/${props.order.id}/transfer`,
          { platform: form.platform, reason: form.reason.trim() });
        ElMessage.success(t("exchangeUi.transferredOk"));
        close();
        emit("done", order);
      } catch (e) {
        form.errors = e.fields || {};
        ElMessage.error(errorText(e));
      } finally {
        form.saving = false;
      }
    }
    return { t, form, choices, received, close, submit, nameOf };
  },
  template: `
  <el-dialog :model-value="modelValue" :title="t('exchangeUi.transfer') + ' · ' + (order?.number || '')"
             width="min(520px, 94vw)" data-test="transfer-dialog" @close="close">
    <p class="muted small">{{ received ? t('exchangeUi.goesBack') : t('exchangeUi.transferHint') }}</p>
    <el-form label-position="top" @submit.prevent="submit">
      <el-form-item :label="t('exchangeUi.platform')" :error="form.errors.platform">
        <el-select v-model="form.platform" class="full" data-test="transfer-platform" :no-data-text="t('exchangeUi.noPlatforms')">
          <el-option v-for="p in choices" :key="p.code" :value="p.code" :label="nameOf(p) + ' (' + p.code + ')'" />
        </el-select>
      </el-form-item>
      <el-form-item :label="t('exchangeUi.reason')" :error="form.errors.reason">
        <el-input v-model="form.reason" type="textarea" :rows="3" maxlength="500" show-word-limit
                  :placeholder="t('exchangeUi.reasonPlaceholder')" data-test="transfer-reason" />
      </el-form-item>
    </el-form>
    <template #footer>
      <el-button @click="close">{{ t('app.cancel') }}</el-button>
      <el-button type="primary" :loading="form.saving" data-test="transfer-submit" @click="submit">{{ t('exchangeUi.transfer') }}</el-button>
    </template>
  </el-dialog>`,
};

// GET /api/v1/exchange/failed with 重发 on each; `retried` after one went again.
export const FailedMessages = {
  props: { limit: { type: Number, default: 50 } },
  emits: ["retried"],
  setup(props, { emit, expose }) {
    const { t, word } = useWords();
    const rows = ref([]);
    async function load() {
      try {
        rows.value = (await api.get("/api/v1/exchange/failed", { limit: props.limit })).items;
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }
    onMounted(load);
    expose({ load });
    async function retry(row) {
      if (await retryMessage(row.id, t)) {
        await load();
        emit("retried");
      }
    }
    const lastResult = (row) => (row.last_status ? `HTTP ${row.last_status}` : row.last_error || "—");
    return { t, word, rows, retry, lastResult };
  },
  template: `
  <el-table :data="rows" size="small" :empty-text="t('exchangeUi.noFailed')" data-test="exchange-failed">
    <el-table-column :label="t('unit.number')" width="190">
      <template #default="{ row }"><a class="mono link" :href="'#/orders/' + row.order_id">{{ row.number }}</a></template>
    </el-table-column>
    <el-table-column :label="t('exchangeUi.platform')" width="120" prop="platform_code" />
    <el-table-column :label="t('exchangeUi.what')" width="110"><template #default="{ row }">{{ word('events', row.event) }}</template></el-table-column>
    <el-table-column :label="t('exchangeUi.lastResult')" min-width="200"><template #default="{ row }"><span class="mono small">{{ lastResult(row) }}</span></template></el-table-column>
    <el-table-column :label="t('exchangeUi.madeAt')" width="140"><template #default="{ row }">{{ $fmtTime(row.created_at, true) }}</template></el-table-column>
    <el-table-column width="116"><template #default="{ row }">
      <el-button size="small" type="warning" plain data-test="failed-retry" @click="retry(row)">{{ t('exchangeUi.retry') }}</el-button></template></el-table-column>
  </el-table>`,
};
