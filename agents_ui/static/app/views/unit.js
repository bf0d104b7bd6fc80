// The enterprise portal: a live inbox of the unit's dispatches with countdowns to the
// sign-for and resolution deadlines; sign for, return with a reason, progress notes,
// extension requests, completion with proof. Only the unit's own orders reach it (the API
// scopes every query; the live rooms are the unit's).

import { computed, onMounted, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api, csrf } from "../api.js";
import { countdown, errorText, go, now } from "../store.js";
import { RETURN_REASONS } from "../vocab.js";
import { useLiveReload } from "./common.js";
import { MediaStrip, orderMedia } from "./media.js";

export default {
  components: { MediaStrip },
  setup() {
    const { t } = useI18n();
    const rows = ref([]);
    const loading = ref(false);
    const filter = ref("all");
    const known = new Set();
    const fresh = ref(new Set());
    const dialog = reactive({ kind: "", row: null, saving: false, form: {}, files: [] });

    async function load() {
      loading.value = true;
      try {
        const items = (await api.get("/api/v1/inbox", { state: "pending,signed", limit: 200 })).items;
        const arrived = new Set();
        if (known.size) items.forEach((r) => !known.has(r.id) && arrived.add(r.id));
        items.forEach((r) => known.add(r.id));
        if (arrived.size) {
          fresh.value = arrived;
          const first = items.find((r) => arrived.has(r.id));
          ElMessage({ type: "info", message: t("unit.newArrival", { number: first.number }) });
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
      };
      Object.assign(dialog, { kind, row, saving: false, form: forms[kind], files: [] });
    }
    const close = () => (dialog.kind = "");

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

    function submit() {
      const { kind, row, form } = dialog;
      const base = `/api/v1/dispatches/${row.id}`;
      if (kind === "return") return act(`${base}/return`, form, t("unit.returnedOk"));
      if (kind === "note") return act(`${base}/notes`, form, t("unit.notedOk"));
      if (kind === "part") return act(`${base}/part`, form, t("unit.partOk"));
      if (kind === "extension") {
        const due = form.requested_due_at ? new Date(form.requested_due_at).toISOString() : "";
        return act(`${base}/time-requests`, { ...form, requested_due_at: due }, t("unit.requestedOk"));
      }
      const ids = dialog.files.map((f) => f.response?.id).filter(Boolean);
      return act(`${base}/complete`, { reply: form.reply, attachment_ids: ids }, t("unit.completedOk", { number: row.number }));
    }

    const uploadHeaders = computed(() => ({ "X-CSRF-Token": csrf() }));
    const onUploadError = (err) => {
      let message = err?.message || "";
      try {
        message = JSON.parse(message).error.message;
      } catch {
        // Not the API's JSON: show what there is.
      }
      ElMessage.error(message);
    };
    const view = (row) => go(`/orders/${row.order_id}`);
    const rowClass = ({ row }) => (fresh.value.has(row.id) ? "row-fresh" : "");

    return {
      t, load, rows, loading, filter, counts, shown, dialog, RETURN_REASONS, signClock, resolveClock,
      open, close, submit, signFor, uploadHeaders, onUploadError, view, rowClass, orderMedia,
    };
  },
  template: `
  <div class="unit-page">
    <div class="page-head">
      <h2>{{ t('unit.inbox') }}</h2>
      <el-button :loading="loading" @click="load">{{ t('app.refresh') }}</el-button>
    </div>
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
    <el-card shadow="never" class="panel table-panel">
      <el-table :data="shown" :row-class-name="rowClass" row-key="id" :empty-text="t('unit.empty')" data-test="inbox">
        <el-table-column :label="t('unit.number')" width="190">
          <template #default="{ row }">
            <a class="mono link" :href="'#/orders/' + row.order_id" data-test="inbox-number">{{ row.number }}</a>
            <div class="tags">
              <el-tag disable-transitions v-if="row.priority === 'urgent'" size="small" type="danger" effect="dark">{{ t('priority.urgent') }}</el-tag>
              <el-tag disable-transitions size="small" effect="plain">{{ t('dispatchRole.' + row.role) }}</el-tag>
            </div>
            <MediaStrip :items="orderMedia(row, { photosOnly: true })" compact />
          </template>
        </el-table-column>
        <el-table-column :label="t('unit.item')" min-width="150">
          <template #default="{ row }">
            <div class="strong">{{ $itemName(row.service_item_code) }}</div>
            <div class="muted small">{{ row.enterprise_name }}</div>
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
            <Countdown :due="row.due_at || row.resolution_due_at" :start="row.order_created_at" />
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
                <el-button size="small" @click="open('note', row)">{{ t('unit.note') }}</el-button>
                <el-button size="small" @click="open('extension', row)">{{ t('unit.extension') }}</el-button>
                <el-button v-if="row.role === 'lead'" size="small" type="success" data-test="complete"
                           @click="open('complete', row)">{{ t('unit.complete') }}</el-button>
                <el-button v-else size="small" type="success" @click="open('part', row)">{{ t('unit.part') }}</el-button>
              </template>
            </div>
          </template>
        </el-table-column>
      </el-table>
    </el-card>

    <el-dialog :model-value="!!dialog.kind" width="560px" @close="close"
               :title="dialog.row ? t({ return: 'unit.returnTitle', note: 'unit.noteTitle', extension: 'unit.extensionTitle', complete: 'unit.completeTitle', part: 'unit.noteTitle' }[dialog.kind] || 'unit.noteTitle', { number: dialog.row.number }) : ''">
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
        <el-form-item v-else-if="dialog.kind === 'note' || dialog.kind === 'part'" :label="t('unit.noteText')" required>
          <el-input v-model="dialog.form.text" type="textarea" :rows="4" maxlength="4000" />
        </el-form-item>
        <template v-else-if="dialog.kind === 'extension'">
          <el-form-item :label="t('unit.extensionKind')">
            <el-radio-group v-model="dialog.form.kind">
              <el-radio-button value="extension">{{ t('unit.extensionKinds.extension') }}</el-radio-button>
              <el-radio-button value="suspension">{{ t('unit.extensionKinds.suspension') }}</el-radio-button>
            </el-radio-group>
          </el-form-item>
          <el-form-item :label="t('unit.requestedDue')" required>
            <el-date-picker v-model="dialog.form.requested_due_at" type="datetime" class="full" />
          </el-form-item>
          <el-form-item :label="t('unit.extensionReason')" required>
            <el-input v-model="dialog.form.reason" type="textarea" :rows="3" maxlength="2000" />
          </el-form-item>
        </template>
        <template v-else-if="dialog.kind === 'complete'">
          <el-form-item :label="t('unit.replyText')" required>
            <el-input v-model="dialog.form.reply" type="textarea" :rows="4" maxlength="8000" data-test="complete-reply" />
          </el-form-item>
          <el-form-item :label="t('unit.proof')">
            <el-upload v-model:file-list="dialog.files" :action="'/api/v1/dispatches/' + dialog.row.id + '/attachments'"
                       name="file" :headers="uploadHeaders" with-credentials multiple list-type="text"
                       accept="image/jpeg,image/png,image/webp,application/pdf" :on-error="onUploadError">
              <el-button>{{ t('unit.upload') }}</el-button>
              <template #tip><div class="muted small">{{ t('unit.proofHint') }}</div></template>
            </el-upload>
          </el-form-item>
        </template>
      </el-form>
      <template #footer>
        <el-button @click="close">{{ t('app.cancel') }}</el-button>
        <el-button type="primary" :loading="dialog.saving" data-test="dialog-submit" @click="submit">{{ t('app.submit') }}</el-button>
      </template>
    </el-dialog>
  </div>`,
};
