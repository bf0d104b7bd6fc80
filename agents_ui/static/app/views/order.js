// One order: its details, deadlines, dispatches, proof files, merged duplicates and the
// timeline of every event (who, when, what). It joins the order's live room, so the page
// follows what others do to the order.

import { computed, onBeforeUnmount, onMounted, ref } from "vue";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { joinRoom, leaveRoom } from "../live.js";
import { actorLabel, areaName, errorText, eventLabel, fmtBytes, fmtTime, itemName, unitName } from "../store.js";
import { useLiveReload } from "./common.js";

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
  if (d.service_item_name) add(t("order.item"), d.service_item_name);
  if (d.enterprise) add(t("order.unit"), d.enterprise);
  else if (d.enterprise_id) add(t("order.unit"), unitName(d.enterprise_id));
  if (d.role) add(t("order.role"), translated("dispatchRole", d.role));
  if (d.reason_code) add(t("unit.reason"), translated("returnReason", d.reason_code));
  if (d.reason_text) add(t("unit.reasonText"), d.reason_text);
  if (d.level) add(t("board.level"), translated("level", d.level));
  if (d.message) add(t("board.message"), d.message);
  if (d.text) add(t("unit.noteText"), d.text);
  if (d.reply) add(t("order.reply"), d.reply);
  if (d.note) add(t("board.reviewNote"), d.note);
  if (d.reason && typeof d.reason === "string") add(t("board.reason"), d.reason);
  if (d.kind && event.type.startsWith("deadline")) add(t("order.kindCol"), translated("deadline", d.kind));
  if (d.kind && event.type.startsWith("time_request")) add(t("unit.extensionKind"), translated("unit.extensionKinds", d.kind));
  if (d.requested_due_at) add(t("unit.requestedDue"), fmtTime(d.requested_due_at, true));
  if (d.due_at && !event.type.startsWith("deadline")) add(t("order.dueAt"), fmtTime(d.due_at, true));
  if (d.sign_for_due_at) add(t("order.signForDue"), fmtTime(d.sign_for_due_at, true));
  if (d.lead) add(t("board.lead"), unitName(d.lead));
  if (Array.isArray(d.assisting) && d.assisting.length) add(t("board.assisting"), d.assisting.map(unitName).join("、"));
  if (d.parent_number) add(t("order.details"), d.parent_number);
  if (d.child_number) add(t("order.mergedChildren"), d.child_number);
  if (d.rating) add(t("order.rating"), translated("rating", d.rating));
  if (d.solved === true) add(t("order.rating"), t("order.solved"));
  if (d.solved === false) add(t("order.rating"), t("order.notSolved"));
  if (d.late === true) add(t("board.level"), t("unit.overdue"));
  return out;
}

export default {
  props: { params: Object },
  setup(props) {
    const { t } = useI18n();
    const id = Number(props.params.id);
    const order = ref(null);
    const error = ref("");

    async function load() {
      try {
        order.value = await api.get(`/api/v1/orders/${id}`);
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
      })[type] || "#94a3b8";
    const back = () => window.history.back();

    return { t, order, error, events, actorLabel, eventLabel, eventColor, back, areaName, itemName, unitName, fmtBytes };
  },
  template: `
  <div class="order-page">
    <div class="page-head">
      <el-button @click="back">← {{ t('order.back') }}</el-button>
      <template v-if="order">
        <h2 class="mono" data-test="order-number">{{ order.number }}</h2>
        <StatusTag :status="order.status" />
        <el-tag disable-transitions v-if="order.priority === 'urgent'" type="danger" effect="dark" size="small">{{ t('priority.urgent') }}</el-tag>
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
              <Countdown :due="order.resolution_due_at" :start="order.created_at" :stopped="!!order.completed_at" /></el-descriptions-item>
            <el-descriptions-item :label="t('order.description')" :span="2"><div class="pre">{{ order.description }}</div></el-descriptions-item>
            <el-descriptions-item v-if="order.reply" :label="t('order.reply')" :span="2"><div class="pre">{{ order.reply }}</div></el-descriptions-item>
            <el-descriptions-item v-if="order.redo_count" :label="t('order.redo')">{{ order.redo_count }}</el-descriptions-item>
          </el-descriptions>
        </el-card>

        <el-card shadow="never" class="panel">
          <template #header><div class="panel-head"><span>{{ t('order.dispatches') }}</span></div></template>
          <el-table :data="order.dispatches" size="small" :empty-text="t('board.empty')" data-test="dispatches">
            <el-table-column :label="t('order.unit')" min-width="150"><template #default="{ row }">{{ unitName(row.enterprise_id) }}</template></el-table-column>
            <el-table-column :label="t('order.role')" width="70"><template #default="{ row }">{{ t('dispatchRole.' + row.role) }}</template></el-table-column>
            <el-table-column :label="t('order.state')" width="96"><template #default="{ row }"><StatusTag :status="row.state" kind="dispatchState" /></template></el-table-column>
            <el-table-column :label="t('order.signForDue')" width="110"><template #default="{ row }">{{ $fmtTime(row.sign_for_due_at) || '—' }}</template></el-table-column>
            <el-table-column :label="t('order.signedAt')" width="110"><template #default="{ row }">{{ $fmtTime(row.signed_at) || '—' }}</template></el-table-column>
            <el-table-column :label="t('order.finishedAt')" width="110"><template #default="{ row }">{{ $fmtTime(row.finished_at) || '—' }}</template></el-table-column>
          </el-table>
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
            <el-table :data="order.attachments" size="small" :empty-text="t('board.empty')">
              <el-table-column :label="t('order.file')" min-width="140"><template #default="{ row }">
                <a class="link" :href="'/api/v1/attachments/' + row.id">{{ row.filename }}</a></template></el-table-column>
              <el-table-column :label="t('order.size')" width="80"><template #default="{ row }">{{ fmtBytes(row.size_bytes) }}</template></el-table-column>
              <el-table-column :label="t('order.uploadedBy')" min-width="110" prop="uploaded_by" />
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
        <template #header><div class="panel-head"><span>{{ t('order.timeline') }}</span><span class="muted small">{{ t('app.items', { n: events.length }) }}</span></div></template>
        <div v-if="!events.length" class="empty-line">{{ t('order.noEvents') }}</div>
        <el-timeline v-else data-test="timeline">
          <el-timeline-item v-for="e in events" :key="e.seq" :timestamp="$fmtTime(e.created_at, true)" :color="eventColor(e.type)" placement="top">
            <div class="tl-head" :data-type="e.type">
              <span class="strong">{{ eventLabel(e.type) }}</span>
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
  </div>`,
};
