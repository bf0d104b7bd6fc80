// The enterprise portal: a live inbox of the unit's dispatches with countdowns to the
// sign-for and resolution deadlines; sign for, return with a reason, progress with photos,
// extension requests, completion with proof; the unit's finished work, searchable. Only
// the unit's own orders reach it (the API scopes every query; the live rooms are the
// unit's). A redo that a bad rating on a repair sent back owes an on-site visit (上门回访),
// recorded here before the order may be completed again. Field staff use it on phones: below 600 px the tables become cards with the
// actions at their foot, and the dialogs fill the screen.

import { computed, onBeforeUnmount, onMounted, reactive, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { alerts, announce, askPermission, setAlerts } from "../alerts.js";
import { countdown, errorText, itemName, now } from "../store.js";
import { RETURN_REASONS } from "../vocab.js";
import { useLiveReload, useNarrow } from "./common.js";
import { MediaStrip, orderMedia } from "./media.js";
import { NoticeList } from "./notices.js";
import { onNoticeEvent } from "../live.js";

// How the citizen confirmed an on-site visit (the API's values, in the order offered).
const CONFIRMATIONS = ["on_site", "by_phone", "refused"];

// Photos (and, from the file picker, PDFs) uploaded to a dispatch as they are chosen, each
// with its progress and, when refused, the reason and a retry. v-model: the list of files.
const ProofUpload = {
  props: { dispatchId: Number, modelValue: Array },
  emits: ["update:modelValue"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const camera = ref(null);
    const picker = ref(null);
    let counter = 0;

    const files = () => props.modelValue;
    async function send(entry) {
      Object.assign(entry, { state: "uploading", progress: 0, error: "", retriable: false });
      try {
        const stored = await api.uploadWithProgress(
          `/api/v1/dispatches/${props.dispatchId}/attachments`,
          entry.file,
          (fraction) => (entry.progress = Math.round(fraction * 100)),
        );
        Object.assign(entry, { state: "done", progress: 100, id: stored.id });
      } catch (e) {
        // A refused file stays refused; a network or server failure may pass next time.
        const retriable = !e.status || e.status >= 500;
        Object.assign(entry, { state: "error", retriable, error: e.status ? errorText(e) : t("unitPhone.uploadNetwork") });
      }
    }
    function chosen(event) {
      const added = [...event.target.files].map((file) =>
        reactive({ key: ++counter, file, name: file.name, state: "uploading", progress: 0, error: "", retriable: false, id: null }),
      );
      event.target.value = ""; // the same photo may be chosen again after a removal
      emit("update:modelValue", [...files(), ...added]);
      added.forEach(send);
    }
    const remove = (entry) => emit("update:modelValue", files().filter((f) => f !== entry));
    return { t, camera, picker, chosen, send, remove };
  },
  template: `
  <div class="proof-upload">
    <div class="proof-buttons">
      <el-button class="touch" type="primary" plain data-test="take-photo" @click="camera.click()">{{ t('unitPhone.takePhoto') }}</el-button>
      <el-button class="touch" data-test="choose-file" @click="picker.click()">{{ t('unitPhone.chooseFile') }}</el-button>
      <input ref="camera" class="hidden-input" type="file" accept="image/*" capture="environment" multiple
             data-test="camera-input" @change="chosen">
      <input ref="picker" class="hidden-input" type="file" accept="image/*,application/pdf" multiple
             data-test="file-input" @change="chosen">
    </div>
    <div class="muted small">{{ t('unitPhone.proofHint') }}</div>
    <ul class="plain-list proof-list" data-test="proof-list">
      <li v-for="f in modelValue" :key="f.key" class="proof-item" :class="'proof-' + f.state" :data-state="f.state">
        <div class="proof-line">
          <a v-if="f.id" class="ellipsis grow" :href="'/api/v1/attachments/' + f.id">{{ f.name }}</a>
          <span v-else class="ellipsis grow">{{ f.name }}</span>
          <el-button v-if="f.retriable" size="small" text type="primary" @click="send(f)">{{ t('unitPhone.retry') }}</el-button>
          <el-button v-if="f.state !== 'uploading'" size="small" text @click="remove(f)">{{ t('unitPhone.remove') }}</el-button>
        </div>
        <el-progress v-if="f.state === 'uploading'" :percentage="f.progress" :stroke-width="6" />
        <div v-else-if="f.state === 'error'" class="proof-error" data-test="proof-error">{{ f.error }}</div>
      </li>
    </ul>
  </div>`,
};

// The unit's finished work: completed dispatches, the latest first, searched on the
// server by number, address or description, a page at a time.
const UnitHistory = {
  props: { narrow: Boolean },
  setup() {
    const { t } = useI18n();
    const items = ref([]);
    const cursor = ref(null);
    const q = ref("");
    const loading = ref(false);
    let asked = 0;

    async function load(more = false) {
      const ask = ++asked; // an older search answering late must not replace a newer one
      loading.value = true;
      try {
        const page = await api.get("/api/v1/inbox/history", { q: q.value.trim(), cursor: more ? cursor.value : "" });
        if (ask !== asked) return;
        items.value = more ? [...items.value, ...page.items] : page.items;
        cursor.value = page.next_cursor;
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        if (ask === asked) loading.value = false;
      }
    }
    let timer = null;
    watch(q, () => {
      clearTimeout(timer);
      timer = setTimeout(() => load(), 300);
    });
    onBeforeUnmount(() => clearTimeout(timer));
    onMounted(() => load());
    return { t, items, cursor, q, loading, load };
  },
  template: `
  <div class="unit-history">
    <el-input v-model="q" clearable class="history-search" :placeholder="t('unitPhone.searchHint')" data-test="history-search" />
    <div v-if="narrow" class="unit-cards" data-test="history">
      <div v-if="!items.length && !loading" class="empty-line">{{ t('unitPhone.historyEmpty') }}</div>
      <article v-for="row in items" :key="row.id" class="unit-card" data-test="history-card">
        <div class="unit-card-head">
          <a class="mono link" :href="'#/orders/' + row.order_id" data-test="history-number">{{ row.number }}</a>
          <StatusTag :status="row.order_status" />
        </div>
        <div class="strong">{{ $itemName(row.service_item_code) }}</div>
        <div class="clamp-2">{{ row.description }}</div>
        <div class="muted small">{{ $areaName(row.area_code) }} {{ row.address }}</div>
        <div class="small"><span class="muted">{{ t('unitPhone.finishedAt') }}</span> {{ $fmtTime(row.finished_at) }}</div>
        <div v-if="row.reply" class="small clamp-2"><span class="muted">{{ t('unit.replyText') }}</span> {{ row.reply }}</div>
      </article>
    </div>
    <el-card v-else shadow="never" class="panel table-panel">
      <el-table :data="items" row-key="id" :empty-text="t('unitPhone.historyEmpty')" data-test="history">
        <el-table-column :label="t('unit.number')" width="190">
          <template #default="{ row }">
            <a class="mono link" :href="'#/orders/' + row.order_id" data-test="history-number">{{ row.number }}</a>
            <div class="tags"><el-tag disable-transitions size="small" effect="plain">{{ t('dispatchRole.' + row.role) }}</el-tag></div>
          </template>
        </el-table-column>
        <el-table-column :label="t('unit.item')" min-width="210">
          <template #default="{ row }">
            <div class="strong">{{ $itemName(row.service_item_code) }}</div>
            <div class="muted small">{{ $unitName(row.enterprise_id) || row.enterprise_name }}</div>
          </template>
        </el-table-column>
        <el-table-column :label="t('unit.description')" min-width="260">
          <template #default="{ row }">
            <div class="clamp-2">{{ row.description }}</div>
            <div class="muted small">{{ $areaName(row.area_code) }} {{ row.address }}</div>
          </template>
        </el-table-column>
        <el-table-column :label="t('unit.replyText')" min-width="220">
          <template #default="{ row }"><div class="clamp-2">{{ row.reply }}</div></template>
        </el-table-column>
        <el-table-column :label="t('unitPhone.finishedAt')" width="170">
          <template #default="{ row }">{{ $fmtTime(row.finished_at) }}</template>
        </el-table-column>
        <el-table-column :label="t('unit.state')" width="110">
          <template #default="{ row }"><StatusTag :status="row.order_status" /></template>
        </el-table-column>
      </el-table>
    </el-card>
    <div class="history-more">
      <el-button v-if="cursor" class="touch" :loading="loading" data-test="history-more" @click="load(true)">{{ t('unitPhone.more') }}</el-button>
    </div>
  </div>`,
};

export default {
  components: { ProofUpload, UnitHistory, MediaStrip, NoticeList },
  props: { params: Object },
  setup(props) {
    const { t } = useI18n();
    const narrow = useNarrow();
    const tab = ref(props.params?.tab === "notices" ? "notices" : "inbox");
    // The notices (通报) addressed to the unit not read yet: the tab's badge, kept current
    // by the live notice_event and by the list when it is open.
    const unreadNotices = ref(0);
    async function countNotices() {
      try {
        unreadNotices.value = (await api.get("/api/v1/notices", { limit: 1 })).unread;
      } catch {
        // The badge waits for the next event; the inbox itself does not depend on it.
      }
    }
    onMounted(countNotices);
    onBeforeUnmount(onNoticeEvent(countNotices));
    const rows = ref([]);
    const loading = ref(false);
    const filter = ref("all");
    const known = new Set();
    let primed = false; // the first load shows what is there; later ones announce arrivals
    const fresh = ref(new Set());
    const dialog = reactive({ kind: "", row: null, saving: false, form: {}, files: [] });

    async function load() {
      loading.value = true;
      try {
        const items = (await api.get("/api/v1/inbox", { state: "pending,signed", limit: 200 })).items;
        const arrived = new Set();
        if (primed) items.forEach((r) => !known.has(r.id) && arrived.add(r.id));
        items.forEach((r) => known.add(r.id));
        primed = true;
        if (arrived.size) {
          fresh.value = arrived;
          const first = items.find((r) => arrived.has(r.id));
          const message = t("unit.newArrival", { number: first.number });
          ElMessage({ type: "info", message });
          announce(message, `${itemName(first.service_item_code)} ${first.address || ""}`.trim());
          setTimeout(() => (fresh.value = new Set()), 8000);
        }
        rows.value = items;
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        loading.value = false;
      }
    }
    useLiveReload(load);
    onMounted(load);

    // The deadline that matters now: signing for a pending dispatch, resolving a signed one.
    const signClock = (r) => countdown(r.sign_for_due_at, r.created_at, now.value);
    const resolveClock = (r) =>
      countdown(r.due_at || r.resolution_due_at, r.order_created_at, now.value);
    const urgency = (r) => (r.state === "pending" ? signClock(r) : resolveClock(r));

    const counts = computed(() => {
      const c = { pending: 0, signed: 0, yellow: 0, red: 0 };
      for (const r of rows.value) {
        c[r.state] += 1;
        const level = urgency(r)?.level;
        if (level === "yellow" || level === "red") c[level] += 1;
      }
      return c;
    });
    const shown = computed(() => {
      const f = filter.value;
      if (f === "all") return rows.value;
      if (f === "pending" || f === "signed") return rows.value.filter((r) => r.state === f);
      return rows.value.filter((r) => urgency(r)?.level === f);
    });

    function open(kind, row) {
      const forms = {
        return: { reason_code: "not_our_duty", reason_text: "" },
        note: { text: "" },
        extension: { kind: "extension", reason: "", requested_due_at: null },
        complete: { reply: "" },
        part: { text: "" },
        visit: { visited_at: new Date(), visitors: "", findings: "", citizen_confirmation: "on_site" },
      };
      Object.assign(dialog, { kind, row, saving: false, form: forms[kind], files: [] });
    }
    const close = () => (dialog.kind = "");
    const uploading = computed(() => dialog.files.some((f) => f.state === "uploading"));
    const uploaded = () => dialog.files.filter((f) => f.state === "done").map((f) => f.id);

    async function act(path, body, message) {
      dialog.saving = true;
      try {
        await api.post(path, body);
        ElMessage.success(message);
        close();
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        dialog.saving = false;
      }
    }

    async function signFor(row) {
      try {
        await api.post(`/api/v1/dispatches/${row.id}/sign-for`);
        ElMessage.success(t("unit.signedOk", { number: row.number }));
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    async function resume(row) {
      try {
        await api.post(`/api/v1/dispatches/${row.id}/resume`);
        ElMessage.success(t("suspension.resumedOk"));
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    function submit() {
      const { kind, row, form } = dialog;
      const base = `/api/v1/dispatches/${row.id}`;
      if (kind === "return") return act(`${base}/return`, form, t("unit.returnedOk"));
      if (kind === "note") return act(`${base}/notes`, { text: form.text, attachment_ids: uploaded() }, t("unit.notedOk"));
      if (kind === "part") return act(`${base}/part`, form, t("unit.partOk"));
      if (kind === "extension") {
        const due = form.requested_due_at ? new Date(form.requested_due_at).toISOString() : "";
        return act(`${base}/time-requests`, { ...form, requested_due_at: due }, t("unit.requestedOk"));
      }
      if (kind === "visit") {
        const visitedAt = form.visited_at ? new Date(form.visited_at).toISOString() : "";
        const body = { ...form, visited_at: visitedAt, attachment_ids: uploaded() };
        return act(`${base}/visit`, body, t("visits.recordedOk", { number: row.number }));
      }
      return act(`${base}/complete`, { reply: form.reply, attachment_ids: uploaded() }, t("unit.completedOk", { number: row.number }));
    }

    const rowClass = ({ row }) => (fresh.value.has(row.id) ? "row-fresh" : "");
    const titles = {
      return: "unit.returnTitle", note: "unit.noteTitle", extension: "unit.extensionTitle",
      complete: "unit.completeTitle", part: "unit.noteTitle", visit: "visits.title",
    };
    const dialogTitle = computed(() => (dialog.row ? t(titles[dialog.kind] || "unit.noteTitle", { number: dialog.row.number }) : ""));

    return {
      t, narrow, tab, load, rows, loading, filter, counts, shown, dialog, dialogTitle, RETURN_REASONS, CONFIRMATIONS,
      signClock, resolveClock, open, close, submit, signFor, resume, rowClass, fresh, uploading,
      alerts, setAlerts, askPermission, orderMedia, unreadNotices,
    };
  },
  template: `
  <div class="unit-page" :class="{ narrow }">
    <div class="page-head unit-head">
      <el-radio-group v-model="tab" class="unit-tabs">
        <el-radio-button value="inbox" data-test="tab-inbox">{{ t('unit.inbox') }}</el-radio-button>
        <el-radio-button value="history" data-test="tab-history">{{ t('unitPhone.history') }}</el-radio-button>
        <el-radio-button value="notices" data-test="tab-notices">{{ t('noticeUi.tab') }}
          <span v-if="unreadNotices" class="tab-count tab-count-danger" data-test="notice-unread-count">{{ unreadNotices }}</span></el-radio-button>
      </el-radio-group>
      <a class="link unit-history-link" href="#/orders?status=completed,callback,closed"
         data-test="unit-history-link">{{ t('searchUi.unitHistory') }} →</a>
      <div class="unit-alerts">
        <el-switch :model-value="alerts.on" :active-text="t('unitPhone.alerts')" data-test="alerts-toggle"
                   @update:model-value="setAlerts" />
        <el-button v-if="alerts.on && alerts.permission === 'default'" size="small" data-test="ask-notify"
                   @click="askPermission">{{ t('unitPhone.allowNotify') }}</el-button>
        <span v-else-if="alerts.on && alerts.permission === 'denied'" class="muted small">{{ t('unitPhone.notifyDenied') }}</span>
      </div>
      <el-button v-if="tab === 'inbox'" :loading="loading" @click="load">{{ t('app.refresh') }}</el-button>
    </div>

    <UnitHistory v-if="tab === 'history'" :narrow="narrow" />
    <NoticeList v-else-if="tab === 'notices'" @unread="(n) => (unreadNotices = n)" />
    <template v-else>
    <div class="stat-row">
      <button class="stat" :class="{ on: filter === 'all' }" @click="filter = 'all'">
        <span class="stat-n">{{ rows.length }}</span><span class="stat-l">{{ t('app.all') }}</span></button>
      <button class="stat" :class="{ on: filter === 'pending' }" data-test="count-pending" @click="filter = 'pending'">
        <span class="stat-n">{{ counts.pending }}</span><span class="stat-l">{{ t('unit.pending') }}</span></button>
      <button class="stat" :class="{ on: filter === 'signed' }" @click="filter = 'signed'">
        <span class="stat-n">{{ counts.signed }}</span><span class="stat-l">{{ t('unit.signed') }}</span></button>
      <button class="stat stat-yellow" :class="{ on: filter === 'yellow' }" @click="filter = 'yellow'">
        <span class="stat-n">{{ counts.yellow }}</span><span class="stat-l">{{ t('unit.dueSoon') }}</span></button>
      <button class="stat stat-red" :class="{ on: filter === 'red' }" @click="filter = 'red'">
        <span class="stat-n">{{ counts.red }}</span><span class="stat-l">{{ t('unit.overdue') }}</span></button>
    </div>

    <div v-if="narrow" class="unit-cards" data-test="inbox">
      <div v-if="!shown.length" class="empty-line">{{ t('unit.empty') }}</div>
      <article v-for="row in shown" :key="row.id" class="unit-card" :class="{ 'row-fresh': fresh.has(row.id) }"
               data-test="inbox-card" :data-number="row.number">
        <div class="unit-card-head">
          <a class="mono link" :href="'#/orders/' + row.order_id" data-test="inbox-number">{{ row.number }}</a>
          <StatusTag :status="row.state" kind="dispatchState" />
        </div>
        <div class="tags">
          <el-tag disable-transitions v-if="row.priority === 'urgent'" size="small" type="danger" effect="dark">{{ t('priority.urgent') }}</el-tag>
          <el-tag disable-transitions size="small" effect="plain">{{ t('dispatchRole.' + row.role) }}</el-tag>
          <el-tag v-if="row.suspended" disable-transitions size="small" type="info" data-test="suspended">{{ t('suspension.suspended') }}</el-tag>
          <el-tag v-if="row.visit_id" disable-transitions size="small" type="warning" data-test="visit-owed">{{ t('visits.owed') }}</el-tag>
          <span class="strong">{{ $itemName(row.service_item_code) }}</span>
        </div>
        <div class="clamp-2">{{ row.description }}</div>
        <MediaStrip :items="orderMedia(row, { photosOnly: true })" compact />
        <div class="muted small">{{ $areaName(row.area_code) }} {{ row.address }}</div>
        <div class="unit-card-caller">
          <span>{{ row.caller_name }}</span>
          <a v-if="row.caller_phone" class="mono touch-link" :href="'tel:' + row.caller_phone" data-test="inbox-phone">{{ row.caller_phone }}</a>
        </div>
        <div class="unit-card-clocks">
          <div v-if="row.state === 'pending'"><div class="muted tiny">{{ t('unit.signForDue') }}</div>
            <Countdown :due="row.sign_for_due_at" :start="row.created_at" /></div>
          <div v-if="row.visit_id" data-test="visit-due"><div class="muted tiny">{{ t('visits.due') }}</div>
            <Countdown :due="row.visit_due_at" :start="row.visit_opened_at" /></div>
          <div><div class="muted tiny">{{ t('unit.resolutionDue') }}</div>
            <Countdown :due="row.due_at || row.resolution_due_at" :start="row.order_created_at" /></div>
        </div>
        <div class="unit-card-actions">
          <template v-if="row.state === 'pending'">
            <el-button class="touch" type="danger" plain data-test="return" @click="open('return', row)">{{ t('unit.return') }}</el-button>
            <el-button class="touch wide" type="primary" data-test="sign-for" @click="signFor(row)">{{ t('unit.signFor') }}</el-button>
          </template>
          <template v-else>
            <el-button v-if="row.suspended && row.role === 'lead'" class="touch" type="warning" plain data-test="resume"
                       @click="resume(row)">{{ t('suspension.resume') }}</el-button>
            <el-button v-else class="touch" data-test="extension" @click="open('extension', row)">{{ t('unit.extension') }}</el-button>
            <el-button class="touch" data-test="progress" @click="open('note', row)">{{ t('unit.note') }}</el-button>
            <el-button v-if="row.visit_id" class="touch wide" type="warning" data-test="visit"
                       @click="open('visit', row)">{{ t('visits.record') }}</el-button>
            <el-button v-else-if="row.role === 'lead'" class="touch wide" type="success" data-test="complete"
                       @click="open('complete', row)">{{ t('unit.complete') }}</el-button>
            <el-button v-else class="touch wide" type="success" @click="open('part', row)">{{ t('unit.part') }}</el-button>
          </template>
        </div>
      </article>
    </div>
    <el-card v-else shadow="never" class="panel table-panel">
      <el-table :data="shown" :row-class-name="rowClass" row-key="id" :empty-text="t('unit.empty')" data-test="inbox">
        <el-table-column :label="t('unit.number')" width="190">
          <template #default="{ row }">
            <a class="mono link" :href="'#/orders/' + row.order_id" data-test="inbox-number">{{ row.number }}</a>
            <div class="tags">
              <el-tag disable-transitions v-if="row.priority === 'urgent'" size="small" type="danger" effect="dark">{{ t('priority.urgent') }}</el-tag>
              <el-tag disable-transitions size="small" effect="plain">{{ t('dispatchRole.' + row.role) }}</el-tag>
              <el-tag v-if="row.visit_id" disable-transitions size="small" type="warning" data-test="visit-owed">{{ t('visits.owed') }}</el-tag>
            </div>
            <div v-if="row.visit_id" class="small" data-test="visit-due">
              <span class="muted">{{ t('visits.due') }}</span> <Countdown :due="row.visit_due_at" :start="row.visit_opened_at" />
            </div>
            <MediaStrip :items="orderMedia(row, { photosOnly: true })" compact />
          </template>
        </el-table-column>
        <el-table-column :label="t('unit.item')" min-width="210">
          <template #default="{ row }">
            <div class="strong">{{ $itemName(row.service_item_code) }}</div>
            <div class="muted small">{{ $unitName(row.enterprise_id) || row.enterprise_name }}</div>
          </template>
        </el-table-column>
        <el-table-column :label="t('unit.description')" min-width="260">
          <template #default="{ row }">
            <div class="clamp-2">{{ row.description }}</div>
            <div class="muted small">{{ $areaName(row.area_code) }} {{ row.address }}</div>
          </template>
        </el-table-column>
        <el-table-column :label="t('unit.caller')" width="150">
          <template #default="{ row }">
            <div>{{ row.caller_name }}</div><div class="mono small muted" data-test="inbox-phone">{{ row.caller_phone || '' }}</div>
          </template>
        </el-table-column>
        <el-table-column :label="t('unit.state')" width="100">
          <template #default="{ row }"><StatusTag :status="row.state" kind="dispatchState" /></template>
        </el-table-column>
        <el-table-column :label="t('unit.signForDue')" width="150">
          <template #default="{ row }">
            <Countdown :due="row.sign_for_due_at" :start="row.created_at" :stopped="row.state !== 'pending'" />
          </template>
        </el-table-column>
        <el-table-column :label="t('unit.resolutionDue')" width="150">
          <template #default="{ row }">
            <el-tag v-if="row.suspended" disable-transitions size="small" type="info" data-test="suspended">{{ t('suspension.suspended') }}</el-tag>
            <Countdown v-else :due="row.due_at || row.resolution_due_at" :start="row.order_created_at" />
          </template>
        </el-table-column>
        <el-table-column :label="t('app.actions')" width="236" fixed="right">
          <template #default="{ row }">
            <div class="row-actions">
              <template v-if="row.state === 'pending'">
                <el-button size="small" type="primary" data-test="sign-for" @click="signFor(row)">{{ t('unit.signFor') }}</el-button>
                <el-button size="small" type="danger" plain data-test="return" @click="open('return', row)">{{ t('unit.return') }}</el-button>
              </template>
              <template v-else>
                <el-button size="small" data-test="progress" @click="open('note', row)">{{ t('unit.note') }}</el-button>
                <el-button v-if="row.suspended && row.role === 'lead'" size="small" type="warning" plain data-test="resume"
                           :title="t('suspension.resumeHint')" @click="resume(row)">{{ t('suspension.resume') }}</el-button>
                <el-button v-else size="small" @click="open('extension', row)">{{ t('unit.extension') }}</el-button>
                <el-button v-if="row.visit_id" size="small" type="warning" data-test="visit"
                           @click="open('visit', row)">{{ t('visits.record') }}</el-button>
                <el-button v-else-if="row.role === 'lead'" size="small" type="success" data-test="complete"
                           @click="open('complete', row)">{{ t('unit.complete') }}</el-button>
                <el-button v-else size="small" type="success" @click="open('part', row)">{{ t('unit.part') }}</el-button>
              </template>
            </div>
          </template>
        </el-table-column>
      </el-table>
    </el-card>
    </template>

    <el-dialog :model-value="!!dialog.kind" :width="narrow ? '100%' : '560px'" :fullscreen="narrow"
               class="unit-dialog" @close="close" :title="dialogTitle">
      <el-form v-if="dialog.row" label-position="top" @submit.prevent="submit">
        <template v-if="dialog.kind === 'return'">
          <el-form-item :label="t('unit.reason')" required>
            <el-select v-model="dialog.form.reason_code" class="full" data-test="return-reason">
              <el-option v-for="r in RETURN_REASONS" :key="r" :value="r" :label="t('returnReason.' + r)" />
            </el-select>
          </el-form-item>
          <el-form-item :label="t('unit.reasonText')">
            <el-input v-model="dialog.form.reason_text" type="textarea" :rows="3" maxlength="2000" data-test="return-text" />
          </el-form-item>
        </template>
        <template v-else-if="dialog.kind === 'note' || dialog.kind === 'part'">
          <el-form-item :label="t('unit.noteText')" required>
            <el-input v-model="dialog.form.text" type="textarea" :rows="4" maxlength="4000" data-test="progress-text" />
          </el-form-item>
          <el-form-item v-if="dialog.kind === 'note'" :label="t('unitPhone.photos')">
            <ProofUpload v-model="dialog.files" :dispatch-id="dialog.row.id" />
          </el-form-item>
        </template>
        <template v-else-if="dialog.kind === 'extension'">
          <el-form-item :label="t('unit.extensionKind')">
            <el-radio-group v-model="dialog.form.kind">
              <el-radio-button value="extension">{{ t('unit.extensionKinds.extension') }}</el-radio-button>
              <el-radio-button value="suspension">{{ t('unit.extensionKinds.suspension') }}</el-radio-button>
            </el-radio-group>
          </el-form-item>
          <el-form-item :label="t(dialog.form.kind === 'suspension' ? 'suspension.expectedEnd' : 'unit.requestedDue')" required>
            <el-date-picker v-model="dialog.form.requested_due_at" type="datetime" class="full" />
          </el-form-item>
          <el-form-item :label="t('unit.extensionReason')" required>
            <el-input v-model="dialog.form.reason" type="textarea" :rows="3" maxlength="2000" />
          </el-form-item>
        </template>
        <template v-else-if="dialog.kind === 'visit'">
          <p class="muted small" data-test="visit-reason">{{ t('visits.why', { reason: dialog.row.reason }) }}</p>
          <el-form-item :label="t('visits.when')" required>
            <el-date-picker v-model="dialog.form.visited_at" type="datetime" class="full" data-test="visit-when" />
          </el-form-item>
          <el-form-item :label="t('visits.who')" required>
            <el-input v-model="dialog.form.visitors" maxlength="500" :placeholder="t('visits.whoHint')" data-test="visit-who" />
          </el-form-item>
          <el-form-item :label="t('visits.findings')" required>
            <el-input v-model="dialog.form.findings" type="textarea" :rows="4" maxlength="8000" data-test="visit-findings" />
          </el-form-item>
          <el-form-item :label="t('visits.photos')" required>
            <ProofUpload v-model="dialog.files" :dispatch-id="dialog.row.id" />
            <div class="muted small">{{ t('visits.photosHint') }}</div>
          </el-form-item>
          <el-form-item :label="t('visits.confirmation')" required>
            <el-radio-group v-model="dialog.form.citizen_confirmation" data-test="visit-confirmation">
              <el-radio v-for="c in CONFIRMATIONS" :key="c" :value="c">{{ t('visits.confirmations.' + c) }}</el-radio>
            </el-radio-group>
          </el-form-item>
        </template>
        <template v-else-if="dialog.kind === 'complete'">
          <el-form-item :label="t('unit.replyText')" required>
            <el-input v-model="dialog.form.reply" type="textarea" :rows="4" maxlength="8000" data-test="complete-reply" />
          </el-form-item>
          <el-form-item :label="t('unit.proof')">
            <ProofUpload v-model="dialog.files" :dispatch-id="dialog.row.id" />
          </el-form-item>
        </template>
      </el-form>
      <template #footer>
        <div class="dialog-actions">
          <el-button class="touch" @click="close">{{ t('app.cancel') }}</el-button>
          <el-button class="touch wide" type="primary" :loading="dialog.saving" :disabled="uploading"
                     data-test="dialog-submit" @click="submit">{{ uploading ? t('unitPhone.waitUploads') : t('app.submit') }}</el-button>
        </div>
      </template>
    </el-dialog>
  </div>`,
};
