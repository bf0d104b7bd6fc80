// The working calendar's administration (administrators): each year's state (provisional
// in orange until someone confirms it against the State Council's notice), a year's
// months with its holidays and make-up working days, a file imported after its check
// was shown, a day entered by hand, and the year confirmed once the check finds no error.

import { computed, onMounted, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { errorText } from "../store.js";
import { ChangeList } from "./admin/common.js";

const pad = (n) => String(n).padStart(2, "0");
const iso = (year, month, day) => `${year}-${pad(month)}-${pad(day)}`;

// A month as weeks of seven cells, Monday first; null before the 1st and after the last.
function monthCells(year, month) {
  const first = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
  const length = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const cells = Array((first + 6) % 7).fill(null);
  for (let day = 1; day <= length; day += 1) {
    const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
    cells.push({ day, date: iso(year, month, day), weekend: weekday === 0 || weekday === 6 });
  }
  while (cells.length % 7) cells.push(null);
  return cells;
}

export default {
  components: { ChangeList },
  setup() {
    const { t } = useI18n();
    const years = ref([]);
    const missing = ref([]);
    const selected = ref(null);
    const newYear = ref(new Date().getFullYear() + 1);
    const importer = reactive({ open: false, file: "", format: "json", content: "", checked: null, source: "", busy: false });
    const editor = reactive({ open: false, date: "", kind: "holiday", name: "", entered: false, busy: false });
    const confirmer = reactive({ open: false, source: "", busy: false });
    // Bumped after each change: the history below is read again.
    const changes = ref(0);

    async function load() {
      try {
        const answer = await api.get("/api/v1/admin/calendar");
        years.value = answer.items;
        missing.value = answer.missing_years;
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    async function open(year) {
      try {
        selected.value = await api.get(`/api/v1/admin/calendar/${year}`);
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    async function refresh(year) {
      selected.value = year;
      changes.value += 1;
      await load();
    }

    onMounted(async () => {
      await load();
      const provisional = years.value.find((y) => y.state === "provisional") || years.value[years.value.length - 1];
      if (provisional) await open(provisional.year);
    });

    const byDate = computed(() => Object.fromEntries((selected.value?.days || []).map((d) => [d.date, d])));
    const months = computed(() =>
      selected.value ? Array.from({ length: 12 }, (_, i) => ({ month: i + 1, cells: monthCells(selected.value.year, i + 1) })) : [],
    );
    const weekdays = computed(() => t("calUi.weekdays").split(","));
    const monthNames = computed(() => t("calUi.months").split(","));
    const errorsOf = (year) => (year?.issues || []).filter((i) => i.severity === "error");
    const warningsOf = (year) => (year?.issues || []).filter((i) => i.severity === "warning");
    const stateType = (state) => (state === "confirmed" ? "success" : state === "provisional" ? "warning" : "info");
    const stateText = (state) => t("calUi.states." + (state || "none"));
    const cellClass = (cell) => {
      const entry = byDate.value[cell.date];
      if (entry) return entry.workday ? "cal-makeup" : "cal-holiday";
      return cell.weekend ? "cal-weekend" : "";
    };
    const cellTitle = (cell) => {
      const entry = byDate.value[cell.date];
      return entry ? `${cell.date} ${entry.name}` : cell.date;
    };

    function openImport() {
      Object.assign(importer, { open: true, file: "", content: "", checked: null, source: "", busy: false });
    }

    async function pickFile(event) {
      const file = event.target.files[0];
      if (!file) return;
      importer.file = file.name;
      importer.format = file.name.toLowerCase().endsWith(".csv") ? "csv" : "json";
      importer.content = await file.text();
      importer.busy = true;
      try {
        importer.checked = await api.post(`/api/v1/admin/calendar/${selected.value.year}/import`, {
          format: importer.format, content: importer.content, dry_run: true,
        });
        importer.source = importer.checked.source || selected.value.source || "";
      } catch (e) {
        importer.checked = null;
        ElMessage.error(errorText(e));
      } finally {
        importer.busy = false;
      }
    }

    async function saveImport() {
      importer.busy = true;
      try {
        const stored = await api.post(`/api/v1/admin/calendar/${selected.value.year}/import`, {
          format: importer.format, content: importer.content, source: importer.source || null,
        });
        importer.open = false;
        ElMessage.success(t("calUi.imported", { count: stored.days.length }));
        await refresh(stored);
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        importer.busy = false;
      }
    }

    function editDay(cell) {
      const entry = byDate.value[cell.date];
      Object.assign(editor, {
        open: true, date: cell.date, entered: Boolean(entry), busy: false,
        kind: entry ? (entry.workday ? "workday" : "holiday") : cell.weekend ? "workday" : "holiday",
        name: entry ? entry.name : "",
      });
    }

    async function saveDay() {
      editor.busy = true;
      const path = `/api/v1/admin/calendar/${selected.value.year}/days/${editor.date}`;
      try {
        const stored = editor.kind === "none"
          ? await api.delete(path)
          : await api.put(path, { workday: editor.kind === "workday", name: editor.name });
        editor.open = false;
        await refresh(stored);
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        editor.busy = false;
      }
    }

    function openConfirm() {
      Object.assign(confirmer, { open: true, source: selected.value.source, busy: false });
    }

    async function confirmYear() {
      confirmer.busy = true;
      try {
        const stored = await api.post(`/api/v1/admin/calendar/${selected.value.year}/confirm`, { source: confirmer.source || null });
        confirmer.open = false;
        ElMessage.success(t("calUi.confirmedMsg", { year: stored.year }));
        await refresh(stored);
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        confirmer.busy = false;
      }
    }

    return {
      t, years, missing, selected, changes, newYear, importer, editor, confirmer, months, weekdays,
      monthNames, open,
      errorsOf, warningsOf, stateType, stateText, cellClass, cellTitle, openImport, pickFile,
      saveImport, editDay, saveDay, openConfirm, confirmYear,
    };
  },
  template: `
  <div class="calendar-admin">
    <div class="page-head">
      <h2>{{ t('calUi.title') }}</h2>
      <span class="muted small">{{ t('calUi.lead') }}</span>
    </div>
    <el-alert v-for="y in missing" :key="y" type="error" show-icon :closable="false" class="cal-missing"
              :data-test="'cal-missing-' + y" :title="t('calUi.missing', { year: y })" />
    <el-card shadow="never" class="panel">
      <template #header><div class="panel-head">{{ t('calUi.years') }}
        <span class="panel-tools">
          <el-input-number v-model="newYear" :min="2000" :max="2100" size="small" controls-position="right" />
          <el-button size="small" data-test="cal-open-year" @click="open(newYear)">{{ t('calUi.openYear') }}</el-button>
        </span></div></template>
      <el-table :data="years" size="small" data-test="cal-years" :empty-text="t('board.empty')"
                :row-class-name="({ row }) => (selected && row.year === selected.year ? 'current-row' : '')">
        <el-table-column :label="t('calUi.year')" width="80" prop="year" />
        <el-table-column :label="t('calUi.state')" width="100"><template #default="{ row }">
          <el-tag disable-transitions size="small" :type="stateType(row.state)" :data-test="'cal-state-' + row.year">{{ stateText(row.state) }}</el-tag></template></el-table-column>
        <el-table-column :label="t('calUi.holidays')" width="90" align="center" prop="holidays" />
        <el-table-column :label="t('calUi.workdays')" width="90" align="center" prop="workdays" />
        <el-table-column :label="t('calUi.check')" width="150"><template #default="{ row }">
          <span v-if="row.complete" class="small">{{ t('calUi.complete') }}<span v-if="row.warnings"> · {{ t('calUi.warningCount', { count: row.warnings }) }}</span></span>
          <span v-else class="small cal-error-text">{{ t('calUi.errorCount', { count: row.errors }) }}</span></template></el-table-column>
        <el-table-column :label="t('calUi.source')" min-width="240" show-overflow-tooltip prop="source" />
        <el-table-column :label="t('calUi.confirmedBy')" min-width="150"><template #default="{ row }">
          <span v-if="row.confirmed_at" class="small">{{ row.confirmed_by }} · {{ $fmtTime(row.confirmed_at, true) }}</span>
          <span v-else class="muted small">—</span></template></el-table-column>
        <el-table-column :label="t('app.actions')" width="90"><template #default="{ row }">
          <el-button size="small" :data-test="'cal-view-' + row.year" @click="open(row.year)">{{ t('calUi.view') }}</el-button></template></el-table-column>
      </el-table>
    </el-card>

    <el-card v-if="selected" shadow="never" class="panel" data-test="cal-year">
      <template #header><div class="panel-head">
        <span>{{ t('calUi.yearTitle', { year: selected.year }) }}
          <el-tag disable-transitions size="small" :type="stateType(selected.state)" data-test="cal-year-state">{{ stateText(selected.state) }}</el-tag>
          <span class="muted small cal-source">{{ selected.source }}</span></span>
        <span class="panel-tools">
          <el-button size="small" data-test="cal-import" @click="openImport">{{ t('calUi.import') }}</el-button>
          <el-button size="small" type="primary" data-test="cal-confirm"
                     :disabled="selected.state !== 'provisional' || !selected.complete" @click="openConfirm">{{ t('calUi.confirm') }}</el-button>
        </span></div></template>
      <div class="cal-legend small">
        <span class="cal-key cal-holiday">{{ t('calUi.off') }}</span>{{ t('calUi.holidayKey') }}
        <span class="cal-key cal-makeup">{{ t('calUi.on') }}</span>{{ t('calUi.makeupKey') }}
        <span class="cal-key cal-weekend">6</span>{{ t('calUi.weekendKey') }}
        <span class="muted">{{ t('calUi.clickHint') }}</span>
      </div>
      <div class="cal-issues" data-test="cal-issues">
        <el-alert v-for="i in errorsOf(selected)" :key="i.field + i.code" type="error" :closable="false" :title="i.message" />
        <el-alert v-for="i in warningsOf(selected)" :key="i.field + i.code" type="warning" :closable="false" :title="i.message" />
      </div>
      <div class="cal-months">
        <div v-for="m in months" :key="m.month" class="cal-month">
          <div class="cal-month-name">{{ monthNames[m.month - 1] }}</div>
          <div class="cal-grid">
            <span v-for="w in weekdays" :key="w" class="cal-wd">{{ w }}</span>
            <template v-for="(cell, i) in m.cells" :key="i">
              <button v-if="cell" type="button" class="cal-day" :class="cellClass(cell)" :title="cellTitle(cell)"
                      :data-test="'cal-day-' + cell.date" @click="editDay(cell)">{{ cell.day }}</button>
              <span v-else></span>
            </template>
          </div>
        </div>
      </div>
      <el-collapse class="cal-history">
        <el-collapse-item :title="t('calUi.history')" name="history">
          <ChangeList :key="selected.year + '-' + changes" entity="calendar_year" :thing-key="String(selected.year)" />
        </el-collapse-item>
      </el-collapse>
    </el-card>

    <el-dialog v-model="importer.open" width="620px" :title="t('calUi.importTitle', { year: selected && selected.year })">
      <p class="small muted">{{ t('calUi.importHint') }}</p>
      <label class="el-button el-button--small cal-file">
        {{ t('calUi.chooseFile') }}
        <input type="file" accept=".json,.csv,application/json,text/csv" data-test="cal-file" @change="pickFile" />
      </label>
      <span class="small cal-file-name">{{ importer.file }}</span>
      <div v-if="importer.checked" class="cal-checked" data-test="cal-checked">
        <p class="small">{{ t('calUi.read', { days: importer.checked.days.length, holidays: importer.checked.days.filter((d) => !d.workday).length, workdays: importer.checked.days.filter((d) => d.workday).length }) }}</p>
        <el-alert v-if="!errorsOf(importer.checked).length" type="success" :closable="false" :title="t('calUi.checkPassed')" data-test="cal-check-ok" />
        <el-alert v-for="i in errorsOf(importer.checked)" :key="i.field + i.code" type="error" :closable="false" :title="i.message" data-test="cal-check-error" />
        <el-alert v-for="i in warningsOf(importer.checked)" :key="i.field + i.code" type="warning" :closable="false" :title="i.message" data-test="cal-check-warning" />
        <el-form label-position="top" class="cal-source-form">
          <el-form-item :label="t('calUi.source')">
            <el-input v-model="importer.source" maxlength="300" data-test="cal-import-source" :placeholder="t('calUi.sourceHint')" />
          </el-form-item>
        </el-form>
        <p v-if="errorsOf(importer.checked).length" class="small cal-error-text">{{ t('calUi.saveWithErrors') }}</p>
      </div>
      <template #footer>
        <el-button @click="importer.open = false">{{ t('app.cancel') }}</el-button>
        <el-button type="primary" :disabled="!importer.checked" :loading="importer.busy" data-test="cal-import-save" @click="saveImport">{{ t('calUi.save') }}</el-button>
      </template>
    </el-dialog>

    <el-dialog v-model="editor.open" width="420px" :title="editor.date">
      <el-form label-position="top" data-test="cal-day-form">
        <el-form-item :label="t('calUi.dayKind')">
          <el-radio-group v-model="editor.kind">
            <el-radio value="holiday">{{ t('calUi.holidayKey') }}</el-radio>
            <el-radio value="workday">{{ t('calUi.makeupKey') }}</el-radio>
            <el-radio v-if="editor.entered" value="none">{{ t('calUi.noEntry') }}</el-radio>
          </el-radio-group>
        </el-form-item>
        <el-form-item v-if="editor.kind !== 'none'" :label="t('calUi.name')">
          <el-input v-model="editor.name" maxlength="40" :placeholder="t('calUi.nameHint')" data-test="cal-day-name" />
        </el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="editor.open = false">{{ t('app.cancel') }}</el-button>
        <el-button type="primary" :loading="editor.busy" :disabled="editor.kind !== 'none' && !editor.name" data-test="cal-day-save" @click="saveDay">{{ t('calUi.save') }}</el-button>
      </template>
    </el-dialog>

    <el-dialog v-model="confirmer.open" width="520px" :title="t('calUi.confirmTitle', { year: selected && selected.year })">
      <p class="small">{{ t('calUi.confirmHint') }}</p>
      <el-form label-position="top">
        <el-form-item :label="t('calUi.source')">
          <el-input v-model="confirmer.source" maxlength="300" data-test="cal-confirm-source" :placeholder="t('calUi.sourceHint')" />
        </el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="confirmer.open = false">{{ t('app.cancel') }}</el-button>
        <el-button type="primary" :loading="confirmer.busy" data-test="cal-confirm-save" @click="confirmYear">{{ t('calUi.confirm') }}</el-button>
      </template>
    </el-dialog>
  </div>
  `,
};
