// Exports (issue 18): the order search's "Export" button writes every order the current
// search finds (not only the page shown) to an XLSX or CSV file. The server writes it in a
// job; "My exports" lists the user's exports with how far each got and, once written, a
// link to the file, kept for a day (POST/GET /api/v1/exports).

import { computed, onBeforeUnmount, reactive } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { errorText } from "../store.js";

// How often the list asks again while an export is being written.
const POLL_MS = 1500;
const WAITING = ["pending", "enqueued"];

export const ExportMenu = {
  // The search as GET /api/v1/orders takes it (the API's own types).
  props: { params: Object },
  setup(props) {
    const { t } = useI18n();
    const state = reactive({ open: false, items: [], error: "", busy: false, loaded: false });
    let timer = null;

    const waiting = computed(() => state.items.filter((e) => WAITING.includes(e.state)).length);
    async function load() {
      try {
        state.items = (await api.get("/api/v1/exports", { limit: 10 })).items;
        state.error = "";
        state.loaded = true;
      } catch (e) {
        state.error = errorText(e);
      }
      clearTimeout(timer);
      timer = waiting.value ? setTimeout(load, POLL_MS) : null;
    }
    onBeforeUnmount(() => clearTimeout(timer));

    async function start(format) {
      if (state.busy) return;
      state.busy = true;
      try {
        await api.post("/api/v1/exports", { kind: "orders", format, params: props.params });
        ElMessage.success(t("exportsUi.started"));
        state.open = true;
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        state.busy = false;
      }
    }

    const percent = (e) =>
      e.state === "done" ? 100 : e.rows_total ? Math.min(99, Math.floor((100 * e.rows_done) / e.rows_total)) : 0;
    const size = (bytes) =>
      bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
    return { t, state, waiting, load, start, percent, size, WAITING };
  },
  template: `
  <el-dropdown trigger="click" :disabled="state.busy" data-test="export" @command="start">
    <el-button :loading="state.busy" data-test="export-toggle">{{ t('exportsUi.export') }}</el-button>
    <template #dropdown>
      <el-dropdown-menu>
        <el-dropdown-item command="xlsx" data-test="export-xlsx">{{ t('exportsUi.xlsx') }}</el-dropdown-item>
        <el-dropdown-item command="csv" data-test="export-csv">{{ t('exportsUi.csv') }}</el-dropdown-item>
      </el-dropdown-menu>
    </template>
  </el-dropdown>
  <el-popover v-model:visible="state.open" placement="bottom-end" :width="380" trigger="click" @show="load">
    <template #reference>
      <el-button data-test="exports-toggle">{{ t('exportsUi.mine') }}<span v-if="waiting" class="search-count">{{ waiting }}</span></el-button>
    </template>
    <div class="export-list" data-test="exports">
      <el-alert v-if="state.error" :title="state.error" type="error" :closable="false" show-icon />
      <div v-else-if="state.loaded && !state.items.length" class="empty-line">{{ t('exportsUi.none') }}</div>
      <ul class="plain-list">
        <li v-for="e in state.items" :key="e.id" class="export-row" data-test="export-row" :data-state="e.state">
          <div class="export-line">
            <span class="strong ellipsis">{{ e.file_name || t('exportsUi.writing', { format: e.format.toUpperCase() }) }}</span>
            <span class="grow"></span>
            <a v-if="e.url" class="link nowrap" :href="e.url" :download="e.file_name" data-test="export-download">{{ t('exportsUi.download') }}</a>
          </div>
          <el-progress v-if="WAITING.includes(e.state)" :percentage="percent(e)" :stroke-width="6" data-test="export-progress" />
          <div class="muted small">
            <template v-if="e.state === 'done'">{{ t('exportsUi.done', { rows: e.rows_done, size: size(e.size_bytes) }) }} · {{ t('exportsUi.kept', { time: $fmtTime(e.expires_at) }) }}</template>
            <template v-else-if="e.state === 'failed'">{{ t('exportsUi.failed') }}</template>
            <template v-else-if="e.state === 'expired'">{{ t('exportsUi.expired') }}</template>
            <template v-else-if="e.rows_total !== null">{{ t('exportsUi.progress', { done: e.rows_done, total: e.rows_total }) }}</template>
            <template v-else>{{ t('exportsUi.queued') }}</template>
          </div>
        </li>
      </ul>
      <div class="muted small export-note">{{ t('exportsUi.note') }}</div>
    </div>
  </el-popover>`,
};
