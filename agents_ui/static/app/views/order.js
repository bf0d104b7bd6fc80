// One order: its details, deadlines, dispatches, callbacks (回访: surveys, attempts,
// answers, ratings), proof files, merged duplicates and the timeline of every event (who,
// when, what). Supervisors may close it with a recorded ruling; the centre may pass it to
// the 12345 platform (转办), and an exchanged order shows its exchange (views/exchange.js).
// It joins the order's live room, so the page follows what others do to the order.

import { computed, onBeforeUnmount, onMounted, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { joinRoom, leaveRoom } from "../live.js";
import {
  actorLabel, areaName, errorText, eventLabel, fmtBytes, fmtTime, itemName, session, unitName,
} from "../store.js";
import { CENTRE_ROLES, SUPERVISOR_ROLES } from "../vocab.js";
import { useLiveReload } from "./common.js";
import { ExchangeSection, TransferDialog } from "./exchange.js";
import { MediaStrip, orderMedia } from "./media.js";

// What an event's data says, as label/value pairs of text (never its raw JSON).
function facts(event, t) {
  const d = event.data || {};
  const out = [];
  const add = (label, value) => {
    if (value !== undefined && value !== null && value !== "") out.push({ label, value: String(value) });
  };
  const translated = (prefix, value) => {
    const key = `${prefix}.${value}`;
    const text = t(key);
    return text === key ? value : text;
  };
  // Codes and ids are named in the reader's language; the stored names are Chinese.
  if (d.service_item) add(t("order.item"), itemName(d.service_item));
  if (d.enterprise_id) add(t("order.unit"), unitName(d.enterprise_id));
  else if (d.enterprise) add(t("order.unit"), d.enterprise);
  if (d.role) add(t("order.role"), translated("dispatchRole", d.role));
  if (d.reason_code) add(t("unit.reason"), translated("returnReason", d.reason_code));
  if (d.reason_text) add(t("unit.reasonText"), d.reason_text);
  // Beside a rating, "level" is the rating in words, shown below from the rating itself.
  const callback = event.type.startsWith("callback");
  if (d.level && !("rating" in d)) add(t("board.level"), translated("level", d.level));
  if (callback && d.campaign) add(t("campaigns.kind"), translated("campaigns.kinds", d.campaign));
  if (callback && d.channel) add(t("campaigns.channel"), translated("campaigns.channels", d.channel));
  if (d.message) add(t("board.message"), event.type.startsWith("ladder.") ? t(`noticeText.${d.level}`) : d.message);
  // A citizen's follow-up from the progress lookup: what they said it is, then their words.
  if (event.type === "citizen.follow_up") add(t("tracking.followUpKind"), translated("tracking.followUpKinds", d.kind));
  if (d.text) add(t(event.type === "citizen.follow_up" ? "tracking.followUpText" : "unit.noteText"), d.text);
  if (d.reply) add(t("order.reply"), d.reply);
  if (d.article) add(t("kbUi.answeredArticle"), `${d.article.title} (v${d.article.version})`);
  if (d.note) add(t("board.reviewNote"), d.note);
  if (d.reason && typeof d.reason === "string") add(t("board.reason"), d.reason);
  if (d.kind && event.type.startsWith("deadline")) add(t("order.kindCol"), translated("deadline", d.kind));
  if (d.kind && event.type.startsWith("time_request")) add(t("unit.extensionKind"), translated("unit.extensionKinds", d.kind));
  // A suspension's date is when the unit expects to resume, not a new due.
  const suspension = event.type === "time_request.suspension" || d.kind === "suspension";
  const asked = suspension ? "suspension.expectedEnd" : "unit.requestedDue";
  if (d.requested_due_at) add(t(asked), fmtTime(d.requested_due_at, true));
  const until = suspension ? "suspension.expectedEnd" : "order.dueAt";
  if (d.due_at && !event.type.startsWith("deadline")) add(t(until), fmtTime(d.due_at, true));
  if (d.sign_for_due_at) add(t("order.signForDue"), fmtTime(d.sign_for_due_at, true));
  if (d.remaining_seconds) {
    const unit = d.remaining_unit === "hours" ? "suspension.hours" : "suspension.workingHours";
    add(t("suspension.remaining"), t(unit, { n: Math.round(d.remaining_seconds / 360) / 10 }));
  }
  if (d.resume_by) add(t("suspension.expectedEnd"), fmtTime(d.resume_by, true));
  if (event.type === "clock.resumed") add(t("order.resolutionDue"), fmtTime(d.resolution_due_at, true));
  if (d.lead) add(t("board.lead"), unitName(d.lead));
  if (Array.isArray(d.assisting) && d.assisting.length) add(t("board.assisting"), d.assisting.map(unitName).join("、"));
  if (d.parent_number) add(t("order.details"), d.parent_number);
  if (d.child_number) add(t("order.mergedChildren"), d.child_number);
  if (d.with_parent) add(t("dupes.withParent"), d.with_parent);
  if (d.split_from) add(t("dupes.splitFrom"), d.split_from);
  if (d.rating) add(t("order.rating"), translated("rating", d.rating));
  if (d.solved === true) add(t("manual.solved"), t("order.solved"));
  if (d.solved === false) add(t("manual.solved"), t("order.notSolved"));
  if (d.late === true) add(t("board.level"), t("unit.overdue"));
  if (d.ruling) add(t("order.ruling"), d.ruling);
  if (d.visited_at) add(t("visits.when"), fmtTime(d.visited_at, true));
  if (d.visitors) add(t("visits.who"), d.visitors);
  if (d.findings) add(t("visits.findings"), d.findings);
  if (d.citizen_confirmation) add(t("visits.confirmation"), translated("visits.confirmations", d.citizen_confirmation));
  if (d.comment) add(t("callbacks.comment"), d.comment);
  // The exchange's events and a transfer name the platform and what was (not) sent.
  if (d.platform && (event.type.startsWith("exchange.") || event.type === "order.transfer")) add(t("exchangeUi.platform"), d.platform);
  if (d.event && event.type.startsWith("exchange.")) add(t("exchangeUi.what"), translated("exchangeUi.events", d.event));
  if (event.type.startsWith("notify.")) {
    add(t("notifyUi.notice"), translated("notifyUi.notices", d.notice));
    if (d.why) add(t("notifyUi.why"), translated("notifyUi.reasons", d.why));
    if (d.to) add(t("notifyUi.to"), d.to);
    if (d.send_at && event.type === "notify.deferred") add(t("notifyUi.sendAt"), fmtTime(d.send_at, true));
    if (d.body) add(t("notifyUi.body"), d.body);
  }
  return out;
}

export default {
  components: { ExchangeSection, MediaStrip, TransferDialog },
  props: { params: Object },
  setup(props) {
    const { t } = useI18n();
    const id = Number(props.params.id);
    const order = ref(null);
    const surveys = ref([]);
    const error = ref("");
    const ruling = reactive({ open: false, text: "", saving: false });
    const exchange = ref(null);
    const transferring = ref(false);
    // The exchange is the centre's to see (units do not deal with the platform).
    const centre = computed(() => CENTRE_ROLES.includes(session.user?.role));

    async function load() {
      try {
        const [found, callbacks, exchanged] = await Promise.all([
          api.get(`/api/v1/orders/${id}`),
          api.get(`/api/v1/orders/${id}/callbacks`),
          centre.value ? api.get(`/api/v1/orders/${id}/exchange`) : null,
        ]);
        order.value = found;
        surveys.value = callbacks.items;
        exchange.value = exchanged;
        error.value = "";
      } catch (e) {
        error.value = errorText(e);
      }
    }
    useLiveReload(load, { accept: (event) => Number(event.order_id) === id });
    const room = `order:${id}`;
    onMounted(() => {
      load();
      joinRoom(room);
    });
    onBeforeUnmount(() => leaveRoom(room));

    const events = computed(() =>
      (order.value?.events || [])
        .slice()
        .reverse()
        .map((e) => ({ ...e, facts: facts(e, t) })),
    );
    const eventColor = (type) =>
      ({
        "order.return": "#dc2626",
        "order.escalate": "#dc2626",
        "notice.created": "#f59e0b",
        "order.complete": "#16a34a",
        "order.resolve_on_call": "#16a34a",
        "order.sign_for": "#1d6fd8",
        "dispatch.signed": "#1d6fd8",
        "notify.failed": "#dc2626",
        "exchange.failed": "#dc2626",
        "order.transfer": "#9333ea",
      })[type] || "#94a3b8";
    const back = () => window.history.back();

    // A ruling closes the order: offered to supervisors (the ruling endpoint's roles) when
    // the server lists "close" among the actions its lifecycle allows from the order's status.
    // 转办: offered to the centre while the lifecycle allows "transfer" from the status.
    const canTransfer = computed(() => centre.value && !!order.value?.actions.includes("transfer"));
    const canRule = computed(
      () => SUPERVISOR_ROLES.includes(session.user?.role) && !!order.value?.actions.includes("close"),
    );
    async function submitRuling() {
      if (!ruling.text.trim()) {
        ElMessage.warning(t("order.rulingNeeded"));
        return;
      }
      ruling.saving = true;
      try {
        await api.post(`/api/v1/orders/${id}/ruling`, { ruling: ruling.text.trim() });
        ElMessage.success(t("order.ruledOk"));
        ruling.open = false;
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        ruling.saving = false;
      }
    }
    // A value's words when the texts have them, else the value itself.
    const word = (prefix, value) => {
      const key = `${prefix}.${String(value).replace(/[^a-z0-9_]/gi, "_")}`;
      return value && t(key) !== key ? t(key) : value || "—";
    };

    // 挂起: the open suspension, if the clock is stopped, and the hours suspended in all.
    const openSuspension = computed(() => (order.value?.suspensions || []).find((s) => !s.ended_at));
    const suspendedHours = computed(() => {
      const seconds = (order.value?.suspensions || []).reduce((sum, s) => sum + s.suspended_seconds, 0);
      return Math.round(seconds / 360) / 10;
    });
    const timeLeft = (s) => t(s.remaining_unit === "hours" ? "suspension.hours" : "suspension.workingHours",
      { n: Math.round(s.remaining_seconds / 360) / 10 });

    return {
      t, order, surveys, error, events, actorLabel, eventLabel, eventColor, back, areaName, itemName,
      unitName, fmtBytes, canRule, ruling, submitRuling, exchange, transferring, canTransfer, load, word, openSuspension, suspendedHours, timeLeft, orderMedia,
    };
  },
  template: `
  <div class="order-page">
    <div class="page-head">
      <el-button @click="back">← {{ t('order.back') }}</el-button>
      <template v-if="order">
        <h2 class="mono" data-test="order-number">{{ order.number }}</h2>
        <StatusTag :status="order.status" />
        <el-tag disable-transitions v-if="order.priority === 'urgent'" type="danger" effect="dark" size="small">{{ t('priority.urgent') }}</el-tag>
        <span class="grow"></span>
        <el-button v-if="canTransfer" plain data-test="transfer" @click="transferring = true">{{ t('exchangeUi.transfer') }}</el-button>
        <el-button v-if="canRule" type="warning" plain data-test="ruling" @click="ruling.open = true">{{ t('order.closeWithRuling') }}</el-button>
      </template>
    </div>
    <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" />
    <div v-if="order" class="order-grid">
      <div class="order-main">
        <el-card shadow="never" class="panel">
          <template #header><div class="panel-head"><span>{{ t('order.details') }}</span></div></template>
          <el-descriptions :column="2" border size="small" class="details">
            <el-descriptions-item :label="t('order.item')">{{ itemName(order.service_item_code) || '—' }}</el-descriptions-item>
            <el-descriptions-item :label="t('order.kind')">{{ order.kind ? t('kind.' + order.kind) : '—' }}</el-descriptions-item>
            <el-descriptions-item :label="t('order.hotline')">{{ order.hotline_code }}</el-descriptions-item>
            <el-descriptions-item :label="t('order.channel')">{{ t('channel.' + order.channel) }}</el-descriptions-item>
            <el-descriptions-item :label="t('order.area')">{{ areaName(order.area_code) || '—' }}</el-descriptions-item>
            <el-descriptions-item :label="t('order.address')">{{ order.address || '—' }}</el-descriptions-item>
            <el-descriptions-item :label="t('order.caller')">{{ order.caller_name || '—' }}</el-descriptions-item>
            <el-descriptions-item :label="t('order.phone')"><span class="mono" data-test="order-phone">{{ order.caller_phone || '—' }}</span></el-descriptions-item>
            <el-descriptions-item :label="t('order.registeredAt')">{{ $fmtTime(order.created_at, true) }}</el-descriptions-item>
            <el-descriptions-item :label="t('order.resolutionDue')">
              <span v-if="openSuspension" data-test="suspended">
                <el-tag disable-transitions size="small" type="info">{{ t('suspension.suspended') }}</el-tag>
                {{ t('suspension.left', { time: timeLeft(openSuspension) }) }}</span>
              <Countdown v-else :due="order.resolution_due_at" :start="order.created_at" :stopped="!!order.completed_at" /></el-descriptions-item>
            <el-descriptions-item v-if="order.suspensions && order.suspensions.length" :label="t('suspension.title')" :span="2">
              <span data-test="suspensions">{{ t('suspension.total', { n: order.suspensions.length, hours: suspendedHours }) }}</span>
              <span v-if="openSuspension" class="muted small">{{ t('suspension.resumeBy', { time: $fmtTime(openSuspension.resume_by, true) }) }}</span>
            </el-descriptions-item>
            <el-descriptions-item :label="t('order.description')" :span="2"><div class="pre">{{ order.description }}</div></el-descriptions-item>
            <el-descriptions-item v-if="order.media.length" :label="t('media.title')" :span="2"><MediaStrip :items="order.media" /></el-descriptions-item>
            <el-descriptions-item v-if="order.reply" :label="t('order.reply')" :span="2"><div class="pre">{{ order.reply }}</div></el-descriptions-item>
            <el-descriptions-item v-if="order.article" :label="t('kbUi.answeredArticle')" :span="2">
              <a class="link" :href="'#/knowledge/' + order.article.id + '?version=' + order.article.version" data-test="order-article">{{ order.article.title }}</a>
              <span class="muted small"> v{{ order.article.version }}</span></el-descriptions-item>
            <el-descriptions-item v-if="order.redo_count" :label="t('order.redo')">{{ order.redo_count }}</el-descriptions-item>
          </el-descriptions>
        </el-card>

        <ExchangeSection :exchange="exchange" :order="order" @changed="load" />

        <el-card shadow="never" class="panel">
          <template #header><div class="panel-head"><span>{{ t('order.dispatches') }}</span></div></template>
          <el-table :data="order.dispatches" size="small" :empty-text="t('board.empty')" data-test="dispatches">
            <el-table-column :label="t('order.unit')" min-width="150"><template #default="{ row }">{{ unitName(row.enterprise_id) }}</template></el-table-column>
            <el-table-column :label="t('order.role')" width="70"><template #default="{ row }">{{ t('dispatchRole.' + row.role) }}</template></el-table-column>
            <el-table-column :label="t('media.dispatchReason')" min-width="150"><template #default="{ row }"><span class="small" data-test="dispatch-reason">{{ row.reason || '—' }}</span></template></el-table-column>
            <el-table-column :label="t('order.state')" width="96"><template #default="{ row }"><StatusTag :status="row.state" kind="dispatchState" /></template></el-table-column>
            <el-table-column :label="t('order.signForDue')" width="110"><template #default="{ row }">{{ $fmtTime(row.sign_for_due_at) || '—' }}</template></el-table-column>
            <el-table-column :label="t('order.signedAt')" width="110"><template #default="{ row }">{{ $fmtTime(row.signed_at) || '—' }}</template></el-table-column>
            <el-table-column :label="t('order.finishedAt')" width="110"><template #default="{ row }">{{ $fmtTime(row.finished_at) || '—' }}</template></el-table-column>
          </el-table>
        </el-card>

        <el-card shadow="never" class="panel" data-test="callbacks">
          <template #header><div class="panel-head"><span>{{ t('callbacks.title') }}</span>
            <span class="muted small">{{ t('app.items', surveys.length) }}</span></div></template>
          <div v-if="!surveys.length" class="empty-line">{{ t('callbacks.none') }}</div>
          <div v-for="s in surveys" :key="s.id" class="survey" :data-survey="s.id">
            <div class="survey-head">
              <span class="strong">{{ word('campaigns.kinds', s.campaign_kind) }}</span>
              <span v-if="s.round" class="muted small">{{ t('callbacks.round', { n: s.round }) }}</span>
              <el-tag disable-transitions size="small" effect="plain">{{ word('campaigns.channels', s.channel) }}</el-tag>
              <el-tag disable-transitions size="small" :type="{ answered: 'success', unreachable: 'danger', cancelled: 'info' }[s.state] || 'warning'">{{ word('callbacks.states', s.state) }}</el-tag>
              <span v-if="s.outcome" class="muted small">{{ word('callbacks.outcomes', s.outcome) }}</span>
              <span v-if="s.dispatch_id && s.enterprise_id" class="muted small">{{ unitName(s.enterprise_id) }}</span>
            </div>
            <dl v-if="s.solved !== null || s.rating || s.comment || s.answered_at || s.recording" class="tl-facts survey-answers">
              <template v-if="s.solved !== null"><dt>{{ t('manual.solved') }}</dt><dd data-test="survey-solved">{{ s.solved ? t('order.solved') : t('order.notSolved') }}</dd></template>
              <template v-if="s.rating"><dt>{{ t('order.rating') }}</dt><dd data-test="survey-rating">{{ t('rating.' + s.rating) }}</dd></template>
              <template v-if="s.comment"><dt>{{ t('callbacks.comment') }}</dt><dd class="pre">{{ s.comment }}</dd></template>
              <template v-if="s.answered_at"><dt>{{ t('callbacks.answeredAt') }}</dt><dd>{{ $fmtTime(s.answered_at, true) }}</dd></template>
              <template v-if="s.recording"><dt>{{ t('media.spokenComment') }}</dt><dd><MediaStrip :items="[{ kind: 'recording', url: s.recording }]" compact /></dd></template>
            </dl>
            <el-table :data="s.attempts" size="small" class="attempts">
              <el-table-column :label="t('callbacks.attempt')" width="64" align="center" prop="number" />
              <el-table-column :label="t('campaigns.channel')" width="84"><template #default="{ row }">{{ word('campaigns.channels', row.channel) }}</template></el-table-column>
              <el-table-column :label="t('order.state')" width="90"><template #default="{ row }">{{ word('callbacks.attemptStates', row.state) }}</template></el-table-column>
              <el-table-column :label="t('callbacks.result')" min-width="110"><template #default="{ row }">{{ word('callbacks.attemptOutcomes', row.outcome) }}</template></el-table-column>
              <el-table-column :label="t('order.dueAt')" width="110"><template #default="{ row }">{{ $fmtTime(row.due_at) }}</template></el-table-column>
              <el-table-column :label="t('order.finishedAt')" width="110"><template #default="{ row }">{{ $fmtTime(row.finished_at) || '—' }}</template></el-table-column>
            </el-table>
          </div>
        </el-card>

        <div class="two-col">
          <el-card shadow="never" class="panel">
            <template #header><div class="panel-head"><span>{{ t('order.deadlines') }}</span></div></template>
            <el-table :data="order.deadlines" size="small" :empty-text="t('board.empty')">
              <el-table-column :label="t('order.kindCol')" min-width="90"><template #default="{ row }">{{ $te('deadline.' + row.kind) ? t('deadline.' + row.kind) : row.kind }}</template></el-table-column>
              <el-table-column :label="t('order.dueAt')" width="120"><template #default="{ row }">{{ $fmtTime(row.due_at) }}</template></el-table-column>
              <el-table-column :label="t('order.state')" width="90"><template #default="{ row }">{{ t('deadline.state.' + row.state) }}</template></el-table-column>
            </el-table>
          </el-card>
          <el-card shadow="never" class="panel">
            <template #header><div class="panel-head"><span>{{ t('order.attachments') }}</span></div></template>
            <MediaStrip :items="orderMedia({ attachments: order.attachments }, { photosOnly: true })" />
            <el-table :data="order.attachments" size="small" :empty-text="t('board.empty')">
              <el-table-column :label="t('order.file')" min-width="140"><template #default="{ row }">
                <a class="link" :href="row.url">{{ row.filename }}</a></template></el-table-column>
              <el-table-column :label="t('order.size')" width="80"><template #default="{ row }">{{ fmtBytes(row.size_bytes) }}</template></el-table-column>
              <el-table-column :label="t('order.uploadedBy')" min-width="110"><template #default="{ row }">{{ actorLabel(row.uploaded_by) }}</template></el-table-column>
            </el-table>
            <template v-if="order.merged_children.length">
              <h4 class="sub-head">{{ t('order.mergedChildren') }}</h4>
              <div v-for="c in order.merged_children" :key="c.id" class="small">
                <a class="mono link" :href="'#/orders/' + c.id">{{ c.number }}</a> {{ c.caller_name }} <span class="mono muted">{{ c.caller_phone || '' }}</span></div>
            </template>
          </el-card>
        </div>
      </div>

      <el-card shadow="never" class="panel order-timeline">
        <template #header><div class="panel-head"><span>{{ t('order.timeline') }}</span><span class="muted small">{{ t('app.items', events.length) }}</span></div></template>
        <div v-if="!events.length" class="empty-line">{{ t('order.noEvents') }}</div>
        <el-timeline v-else data-test="timeline">
          <el-timeline-item v-for="e in events" :key="e.seq" :timestamp="$fmtTime(e.created_at, true)" :color="eventColor(e.type)" placement="top">
            <div class="tl-head" :data-type="e.type">
              <span class="strong">{{ eventLabel(e.type, e.data) }}</span>
              <span v-if="e.to_status && e.from_status" class="muted small">{{ t('status.' + e.from_status) }} → {{ t('status.' + e.to_status) }}</span>
              <span v-else-if="e.to_status" class="muted small">→ {{ t('status.' + e.to_status) }}</span>
            </div>
            <div class="tl-actor muted small">{{ actorLabel(e.actor) }}</div>
            <dl v-if="e.facts.length" class="tl-facts">
              <template v-for="(f, i) in e.facts" :key="i"><dt>{{ f.label }}</dt><dd>{{ f.value }}</dd></template>
            </dl>
          </el-timeline-item>
        </el-timeline>
      </el-card>
    </div>

    <TransferDialog v-model="transferring" :order="order" :exchange="exchange" @done="load" />

    <el-dialog v-model="ruling.open" :title="t('order.closeWithRuling') + ' · ' + (order?.number || '')" width="520px">
      <p class="muted small">{{ t('order.rulingHint') }}</p>
      <el-input v-model="ruling.text" type="textarea" :rows="3" maxlength="2000" :placeholder="t('order.rulingPlaceholder')" data-test="ruling-text" />
      <template #footer>
        <el-button @click="ruling.open = false">{{ t('app.cancel') }}</el-button>
        <el-button type="primary" :loading="ruling.saving" data-test="ruling-submit" @click="submitRuling">{{ t('app.submit') }}</el-button>
      </template>
    </el-dialog>
  </div>`,
};
