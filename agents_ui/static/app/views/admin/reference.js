// 单位管理, 区域管理, 服务目录: the administrators' screens for reference data
// (/api/v1/admin/enterprises, /areas, /service-items). Each keeps its list with filters, an
// edit dialog, retiring with the server's refusal shown as it is (what still needs the
// thing), and each thing's recorded changes. The console's own lists (pickers) are read
// again after a change.

import { computed, onMounted, reactive, ref } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { errorText, nameOf, reloadRefs } from "../../store.js";
import { DOMAINS, ORDER_KINDS } from "../../vocab.js";
import { ChangeList } from "./common.js";

const UNITS = ["hours", "working_hours", "working_days"];
const CLOCKS = ["sign_for", "first_contact", "resolution"];

// What every screen here does: load its list, save a dialog's form, retire or bring back
// a row (a refusal is shown in a box of its own: it names what still needs the row), and
// open a row's recorded changes.
export function useAdminList(path, entity) {
  const { t } = useI18n();
  const rows = ref([]);
  const dialog = reactive({ open: false, editing: null, saving: false, errors: {} });
  const history = reactive({ open: false, key: "", title: "" });
  async function load() {
    rows.value = (await api.get(path)).items;
  }
  onMounted(load);
  async function save(createPath, editPath, body) {
    dialog.saving = true;
    dialog.errors = {};
    try {
      if (dialog.editing) await api.put(editPath, body);
      else await api.post(createPath, body);
      ElMessage.success(t("app.saved"));
      dialog.open = false;
      await Promise.all([load(), reloadRefs()]);
    } catch (e) {
      dialog.errors = e.fields || {};
      ElMessage.error(errorText(e));
    } finally {
      dialog.saving = false;
    }
  }
  async function toggle(base, row, body) {
    try {
      await api.post(`${base}/${encodeURIComponent(row.code)}/${row.active ? "disable" : "enable"}`, body);
      ElMessage.success(t("app.saved"));
      await Promise.all([load(), reloadRefs()]);
      return null;
    } catch (e) {
      if (e.status !== 409) {
        ElMessage.error(errorText(e));
        return null;
      }
      return e;
    }
  }
  async function refused(e) {
    await ElMessageBox.alert(e.message, t("refAdminUi.refused"), {
      type: "warning", customClass: "refusal-box",
    });
  }
  function showHistory(row) {
    Object.assign(history, { open: true, key: row.code, title: `${nameOf(row)} (${row.code})` });
  }
  return { t, rows, dialog, history, load, save, toggle, refused, showHistory, entity };
}

export const HistoryDrawer = {
  components: { ChangeList },
  props: { history: Object, entity: String },
  setup() {
    const { t } = useI18n();
    return { t };
  },
  template: `
  <el-drawer v-model="history.open" :title="t('refAdminUi.history') + ' · ' + history.title" size="640px">
    <ChangeList v-if="history.open" :entity="entity" :thing-key="history.key" />
  </el-drawer>`,
};

export const matches = (row, text) =>
  !text || [row.code, row.name_zh, row.name_en, ...(row.keywords || [])].some((v) => v && v.toLowerCase().includes(text.toLowerCase()));
export const activeFilter = (row, state) => state === "" || String(row.active) === state;

// 服务目录
function blankItem() {
  return {
    code: "", domain: "water", kind: "repair", name_zh: "", name_en: "", keywords: [],
    sign_for_amount: 2, sign_for_unit: "working_hours",
    first_contact_amount: 1, first_contact_unit: "working_days",
    resolution_amount: 5, resolution_unit: "working_days",
    hasUrgent: false, urgent_sign_for_hours: 1, urgent_first_contact_hours: 2, urgent_resolution_hours: 24,
    classification_code: "",
  };
}

export const AdminCataloguePage = {
  components: { HistoryDrawer },
  setup() {
    const list = useAdminList("/api/v1/admin/service-items", "service_item");
    const { t } = list;
    const filters = reactive({ text: "", domain: "", active: "" });
    const form = reactive(blankItem());
    // The GB/T 39666 classes an item can be exchanged under: active middle and minor ones.
    const classifications = ref([]);
    onMounted(async () => {
      const rows = (await api.get("/api/v1/admin/classifications")).items;
      classifications.value = rows.filter((r) => r.active && r.level !== "major");
    });
    // "020102 公用事业 › 供水 › 水表计量": the code with its classes' names.
    const classLabel = (row) => {
      const levels = ["major", "middle", "minor"].filter((level) => row[level + "_code"]);
      const names = levels.map((l) => nameOf({ name_zh: row[l + "_name_zh"], name_en: row[l + "_name_en"] }));
      return `${row.code} ${names.join(" › ")}`;
    };
    const shown = computed(() =>
      list.rows.value.filter(
        (r) => matches(r, filters.text) && (!filters.domain || r.domain === filters.domain) && activeFilter(r, filters.active),
      ),
    );
    const limit = (row, clock) => `${Number(row[clock + "_amount"])} ${t("refAdminUi.units." + row[clock + "_unit"])}`;
    const urgent = (row) =>
      row.urgent_resolution_hours == null
        ? "—"
        : CLOCKS.map((c) => Number(row[`urgent_${c}_hours`])).join(" / ") + " " + t("refAdminUi.units.hours");
    function edit(row) {
      Object.assign(form, blankItem());
      list.dialog.errors = {};
      list.dialog.editing = row ? row.code : null;
      if (row) {
        Object.assign(form, {
          code: row.code, domain: row.domain || "", kind: row.kind, name_zh: row.name_zh, name_en: row.name_en,
          keywords: [...row.keywords], hasUrgent: row.urgent_resolution_hours != null,
          classification_code: row.classification_code || "",
        });
        for (const c of CLOCKS) Object.assign(form, { [c + "_amount"]: Number(row[c + "_amount"]), [c + "_unit"]: row[c + "_unit"] });
        if (form.hasUrgent) {
          for (const c of CLOCKS) form[`urgent_${c}_hours`] = Number(row[`urgent_${c}_hours`]);
        }
      }
      list.dialog.open = true;
    }
    function save() {
      // Named as the item answers them: each clock's amount and unit, the urgent hours
      // (left out: none).
      const body = {
        domain: form.domain || null, kind: form.kind, name_zh: form.name_zh, name_en: form.name_en,
        keywords: form.keywords, classification_code: form.classification_code || null,
      };
      for (const c of CLOCKS) {
        Object.assign(body, { [c + "_amount"]: form[c + "_amount"], [c + "_unit"]: form[c + "_unit"] });
        if (form.hasUrgent) body[`urgent_${c}_hours`] = form[`urgent_${c}_hours`];
      }
      if (!list.dialog.editing) body.code = form.code;
      const base = "/api/v1/admin/service-items";
      return list.save(base, `${base}/${encodeURIComponent(list.dialog.editing)}`, body);
    }
    async function toggle(row) {
      const refusal = await list.toggle("/api/v1/admin/service-items", row);
      if (refusal) await list.refused(refusal);
    }
    return {
      ...list, filters, form, shown, limit, urgent, edit, save, toggle, classifications, classLabel, DOMAINS, ORDER_KINDS,
      UNITS, CLOCKS, nameOf,
    };
  },
  template: `
  <div class="admin-reference">
    <div class="page-head"><h2>{{ t('refAdminUi.catalogue') }}</h2>
      <el-button type="primary" @click="edit(null)" data-test="item-new">{{ t('refAdminUi.newItem') }}</el-button></div>
    <div class="admin-filters">
      <el-input v-model="filters.text" clearable :placeholder="t('refAdminUi.search')" data-test="item-search" />
      <el-select v-model="filters.domain" clearable :placeholder="t('refAdminUi.domain')">
        <el-option v-for="d in DOMAINS" :key="d" :value="d" :label="t('domain.' + d)" />
      </el-select>
      <el-select v-model="filters.active" :placeholder="t('refAdminUi.state')">
        <el-option value="" :label="t('app.all')" /><el-option value="true" :label="t('refAdminUi.active')" />
        <el-option value="false" :label="t('refAdminUi.retired')" />
      </el-select>
    </div>
    <el-card shadow="never" class="panel">
      <el-table :data="shown" size="small" data-test="items">
        <el-table-column prop="code" :label="t('refAdminUi.code')" width="110" />
        <el-table-column :label="t('refAdminUi.name')" min-width="150">
          <template #default="{ row }">{{ nameOf(row) }}<div class="tiny muted">{{ row.keywords.join('、') }}</div></template>
        </el-table-column>
        <el-table-column :label="t('refAdminUi.domain')" width="80">
          <template #default="{ row }">{{ row.domain ? t('domain.' + row.domain) : '—' }}</template>
        </el-table-column>
        <el-table-column :label="t('refAdminUi.kind')" width="80">
          <template #default="{ row }">{{ t('kind.' + row.kind) }}</template>
        </el-table-column>
        <el-table-column v-for="c in CLOCKS" :key="c" :label="t('refAdminUi.clocks.' + c)" width="110">
          <template #default="{ row }"><span :data-test="'limit-' + c">{{ limit(row, c) }}</span></template>
        </el-table-column>
        <el-table-column :label="t('refAdminUi.urgent')" width="130">
          <template #default="{ row }">{{ urgent(row) }}</template>
        </el-table-column>
        <el-table-column :label="t('classifyUi.classification')" width="100">
          <template #default="{ row }"><span :data-test="'item-class-' + row.code">{{ row.classification_code || '—' }}</span></template>
        </el-table-column>
        <el-table-column :label="t('refAdminUi.state')" width="100">
          <template #default="{ row }"><el-tag :type="row.active ? 'success' : 'info'" size="small">{{ row.active ? t('refAdminUi.active') : t('refAdminUi.retired') }}</el-tag></template>
        </el-table-column>
        <el-table-column :label="t('app.actions')" width="200">
          <template #default="{ row }">
            <el-button link type="primary" @click="edit(row)" data-test="item-edit">{{ t('refAdminUi.edit') }}</el-button>
            <el-button link :type="row.active ? 'danger' : 'success'" @click="toggle(row)" data-test="item-toggle">{{ row.active ? t('refAdminUi.retire') : t('refAdminUi.restore') }}</el-button>
            <el-button link @click="showHistory(row)">{{ t('refAdminUi.history') }}</el-button>
          </template>
        </el-table-column>
      </el-table>
    </el-card>
    <el-dialog v-model="dialog.open" :title="dialog.editing ? t('refAdminUi.editItem') : t('refAdminUi.newItem')" width="640px">
      <el-alert v-if="dialog.editing" type="info" :closable="false" show-icon :title="t('refAdminUi.keptLimits')" class="ref-dialog-note" />
      <el-form label-width="120px" data-test="item-form">
        <el-form-item v-if="!dialog.editing" :label="t('refAdminUi.code')" :error="dialog.errors.code"><el-input v-model="form.code" /></el-form-item>
        <el-form-item :label="t('refAdminUi.nameZh')" :error="dialog.errors.name_zh"><el-input v-model="form.name_zh" data-test="item-name-zh" /></el-form-item>
        <el-form-item :label="t('refAdminUi.nameEn')" :error="dialog.errors.name_en"><el-input v-model="form.name_en" /></el-form-item>
        <el-form-item :label="t('refAdminUi.domain')">
          <el-select v-model="form.domain" clearable><el-option v-for="d in DOMAINS" :key="d" :value="d" :label="t('domain.' + d)" /></el-select>
        </el-form-item>
        <el-form-item :label="t('refAdminUi.kind')">
          <el-select v-model="form.kind"><el-option v-for="k in ORDER_KINDS" :key="k" :value="k" :label="t('kind.' + k)" /></el-select>
        </el-form-item>
        <el-form-item v-for="c in CLOCKS" :key="c" :label="t('refAdminUi.clocks.' + c)" :error="dialog.errors[c + '_amount'] || dialog.errors[c + '_unit']">
          <el-input-number v-model="form[c + '_amount']" :min="0.5" :step="1" :data-test="'amount-' + c" />
          <el-select v-model="form[c + '_unit']" class="ref-unit-select"><el-option v-for="u in UNITS" :key="u" :value="u" :label="t('refAdminUi.units.' + u)" /></el-select>
        </el-form-item>
        <el-form-item :label="t('refAdminUi.urgent')">
          <el-switch v-model="form.hasUrgent" />
          <span class="tiny muted ref-urgent-hint">{{ t('refAdminUi.urgentHint') }}</span>
        </el-form-item>
        <el-form-item v-if="form.hasUrgent" v-for="c in CLOCKS" :key="'u' + c" :label="t('refAdminUi.urgentClocks.' + c)" :error="dialog.errors['urgent_' + c + '_hours']">
          <el-input-number v-model="form['urgent_' + c + '_hours']" :min="0.5" :step="1" /> <span class="muted">{{ t('refAdminUi.units.hours') }}</span>
        </el-form-item>
        <el-form-item :label="t('classifyUi.classification')" :error="dialog.errors.classification_code">
          <el-select v-model="form.classification_code" clearable filterable :placeholder="t('classifyUi.none')" data-test="item-classification">
            <el-option v-for="c in classifications" :key="c.code" :value="c.code" :label="classLabel(c)" />
          </el-select>
        </el-form-item>
        <el-form-item :label="t('refAdminUi.keywords')">
          <el-select v-model="form.keywords" multiple filterable allow-create default-first-option :placeholder="t('refAdminUi.keywordsHint')" />
        </el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="dialog.open = false">{{ t('refAdminUi.cancel') }}</el-button>
        <el-button type="primary" :loading="dialog.saving" @click="save" data-test="item-save">{{ t('refAdminUi.save') }}</el-button>
      </template>
    </el-dialog>
    <HistoryDrawer :history="history" :entity="entity" />
  </div>`,
};

// 区域管理
export const AdminAreasPage = {
  components: { HistoryDrawer },
  setup() {
    const list = useAdminList("/api/v1/admin/areas", "area");
    const { t } = list;
    const filters = reactive({ text: "", district: "", active: "" });
    const form = reactive({ code: "", parent_code: "", name_zh: "", name_en: "" });
    const districts = computed(() => list.rows.value.filter((r) => r.level === "district"));
    // Each district followed by its streets.
    const shown = computed(() => {
      const wanted = (r) => matches(r, filters.text) && activeFilter(r, filters.active);
      return districts.value
        .filter((d) => !filters.district || d.code === filters.district)
        .flatMap((d) => [d, ...list.rows.value.filter((s) => s.parent_code === d.code)])
        .filter(wanted);
    });
    const districtName = (code) => nameOf(districts.value.find((d) => d.code === code)) || code;
    function edit(row, parent) {
      list.dialog.errors = {};
      list.dialog.editing = row ? row.code : null;
      Object.assign(form, row
        ? { code: row.code, parent_code: row.parent_code || "", name_zh: row.name_zh, name_en: row.name_en }
        : { code: "", parent_code: parent || "", name_zh: "", name_en: "" });
      list.dialog.open = true;
    }
    function save() {
      const body = { name_zh: form.name_zh, name_en: form.name_en };
      if (!list.dialog.editing) Object.assign(body, { code: form.code, parent_code: form.parent_code || null });
      const base = "/api/v1/admin/areas";
      return list.save(base, `${base}/${encodeURIComponent(list.dialog.editing)}`, body);
    }
    async function toggle(row) {
      const refusal = await list.toggle("/api/v1/admin/areas", row);
      if (refusal) await list.refused(refusal);
    }
    return { ...list, filters, form, districts, shown, districtName, edit, save, toggle, nameOf };
  },
  template: `
  <div class="admin-reference">
    <div class="page-head"><h2>{{ t('refAdminUi.areas') }}</h2>
      <el-button type="primary" @click="edit(null)" data-test="area-new">{{ t('refAdminUi.newArea') }}</el-button></div>
    <div class="admin-filters">
      <el-input v-model="filters.text" clearable :placeholder="t('refAdminUi.search')" data-test="area-search" />
      <el-select v-model="filters.district" clearable filterable :placeholder="t('refAdminUi.district')">
        <el-option v-for="d in districts" :key="d.code" :value="d.code" :label="nameOf(d)" />
      </el-select>
      <el-select v-model="filters.active" :placeholder="t('refAdminUi.state')">
        <el-option value="" :label="t('app.all')" /><el-option value="true" :label="t('refAdminUi.active')" />
        <el-option value="false" :label="t('refAdminUi.retired')" />
      </el-select>
    </div>
    <el-card shadow="never" class="panel">
      <el-table :data="shown" size="small" data-test="areas" row-key="code">
        <el-table-column prop="code" :label="t('refAdminUi.code')" width="130" />
        <el-table-column :label="t('refAdminUi.name')" min-width="160">
          <template #default="{ row }"><span :class="{ 'street-name': row.level === 'street' }">{{ nameOf(row) }}</span></template>
        </el-table-column>
        <el-table-column :label="t('refAdminUi.level')" width="90">
          <template #default="{ row }">{{ t('refAdminUi.levels.' + row.level) }}</template>
        </el-table-column>
        <el-table-column :label="t('refAdminUi.district')" width="120">
          <template #default="{ row }">{{ row.parent_code ? districtName(row.parent_code) : '—' }}</template>
        </el-table-column>
        <el-table-column :label="t('refAdminUi.state')" width="100">
          <template #default="{ row }"><el-tag :type="row.active ? 'success' : 'info'" size="small">{{ row.active ? t('refAdminUi.active') : t('refAdminUi.retired') }}</el-tag></template>
        </el-table-column>
        <el-table-column :label="t('app.actions')" width="260">
          <template #default="{ row }">
            <el-button link type="primary" @click="edit(row)">{{ t('refAdminUi.rename') }}</el-button>
            <el-button v-if="row.level === 'district'" link @click="edit(null, row.code)">{{ t('refAdminUi.addStreet') }}</el-button>
            <el-button link :type="row.active ? 'danger' : 'success'" @click="toggle(row)" :data-test="'area-toggle-' + row.code">{{ row.active ? t('refAdminUi.retire') : t('refAdminUi.restore') }}</el-button>
            <el-button link @click="showHistory(row)">{{ t('refAdminUi.history') }}</el-button>
          </template>
        </el-table-column>
      </el-table>
    </el-card>
    <el-dialog v-model="dialog.open" :title="dialog.editing ? t('refAdminUi.rename') : t('refAdminUi.newArea')" width="520px">
      <el-form label-width="110px">
        <el-form-item v-if="!dialog.editing" :label="t('refAdminUi.code')" :error="dialog.errors.code"><el-input v-model="form.code" /></el-form-item>
        <el-form-item v-if="!dialog.editing" :label="t('refAdminUi.district')" :error="dialog.errors.parent_code">
          <el-select v-model="form.parent_code" clearable :placeholder="t('refAdminUi.noParent')">
            <el-option v-for="d in districts" :key="d.code" :value="d.code" :label="nameOf(d)" />
          </el-select>
        </el-form-item>
        <el-form-item :label="t('refAdminUi.nameZh')" :error="dialog.errors.name_zh"><el-input v-model="form.name_zh" /></el-form-item>
        <el-form-item :label="t('refAdminUi.nameEn')" :error="dialog.errors.name_en"><el-input v-model="form.name_en" /></el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="dialog.open = false">{{ t('refAdminUi.cancel') }}</el-button>
        <el-button type="primary" :loading="dialog.saving" @click="save">{{ t('refAdminUi.save') }}</el-button>
      </template>
    </el-dialog>
    <HistoryDrawer :history="history" :entity="entity" />
  </div>`,
};

// 单位管理: enterprises, branches and their service windows
export const AdminEnterprisesPage = {
  components: { HistoryDrawer },
  setup() {
    const list = useAdminList("/api/v1/admin/enterprises", "enterprise");
    const { t } = list;
    const filters = reactive({ text: "", kind: "", active: "" });
    const form = reactive({ code: "", kind: "company", parent_code: "", name_zh: "", name_en: "", domains: [], hotline_code: "" });
    const areas = ref([]);
    onMounted(async () => (areas.value = (await api.get("/api/v1/admin/areas")).items.filter((a) => a.active)));
    const byId = computed(() => Object.fromEntries(list.rows.value.map((r) => [r.id, r])));
    const parents = computed(() => list.rows.value.filter((r) => r.kind !== "branch" && r.active));
    const shown = computed(() =>
      list.rows.value.filter((r) => matches(r, filters.text) && (!filters.kind || r.kind === filters.kind) && activeFilter(r, filters.active)),
    );
    function edit(row) {
      list.dialog.errors = {};
      list.dialog.editing = row ? row.code : null;
      Object.assign(form, row
        ? { code: row.code, kind: row.kind, parent_code: row.parent_code || "",
            name_zh: row.name_zh, name_en: row.name_en, domains: [...row.domains], hotline_code: row.hotline_code || "" }
        : { code: "", kind: "company", parent_code: "", name_zh: "", name_en: "", domains: [], hotline_code: "" });
      list.dialog.open = true;
    }
    function save() {
      const body = {
        kind: form.kind, parent_code: form.kind === "branch" ? form.parent_code || null : null, name_zh: form.name_zh,
        name_en: form.name_en, domains: form.domains, hotline_code: form.hotline_code || null,
      };
      if (!list.dialog.editing) body.code = form.code;
      const base = "/api/v1/admin/enterprises";
      return list.save(base, `${base}/${encodeURIComponent(list.dialog.editing)}`, body);
    }
    // Retiring: a refusal names what still needs the unit; its routing rules can be
    // handed to another unit and the retirement tried again.
    const retiring = reactive({ open: false, row: null, message: "", moveTo: "", busy: false });
    async function toggle(row) {
      const refusal = await list.toggle("/api/v1/admin/enterprises", row, row.active ? {} : undefined);
      if (refusal) Object.assign(retiring, { open: true, row, message: refusal.message, moveTo: "" });
    }
    async function retireMoving() {
      retiring.busy = true;
      const refusal = await list.toggle("/api/v1/admin/enterprises", retiring.row, { move_to: retiring.moveTo });
      retiring.busy = false;
      if (refusal) retiring.message = refusal.message;
      else retiring.open = false;
    }
    // The windows of one unit, in a drawer.
    const windows = reactive({ open: false, unit: null, rows: [], form: null, editing: null, errors: {} });
    async function loadWindows() {
      windows.rows = (await api.get(`/api/v1/admin/enterprises/${encodeURIComponent(windows.unit.code)}/windows`)).items;
    }
    async function openWindows(row) {
      Object.assign(windows, { open: true, unit: row, form: null });
      await loadWindows();
    }
    function editWindow(w) {
      windows.errors = {};
      windows.editing = w ? w.code : null;
      windows.form = w ? { code: w.code, name_zh: w.name_zh, name_en: w.name_en, area_code: w.area_code || "" }
        : { code: "", name_zh: "", name_en: "", area_code: "" };
    }
    async function saveWindow() {
      const f = windows.form;
      const body = { name_zh: f.name_zh, name_en: f.name_en, area_code: f.area_code || null };
      try {
        if (windows.editing) await api.put(`/api/v1/admin/windows/${encodeURIComponent(windows.editing)}`, body);
        else await api.post(`/api/v1/admin/enterprises/${encodeURIComponent(windows.unit.code)}/windows`, { ...body, code: f.code });
        windows.form = null;
        await Promise.all([loadWindows(), list.load()]);
      } catch (e) {
        windows.errors = e.fields || {};
        ElMessage.error(errorText(e));
      }
    }
    async function toggleWindow(w) {
      const refusal = await list.toggle("/api/v1/admin/windows", w);
      if (refusal) await list.refused(refusal);
      await loadWindows();
    }
    const areaName = (code) => nameOf(areas.value.find((a) => a.code === code)) || code || "—";
    return {
      ...list, filters, form, areas, byId, parents, shown, edit, save, toggle, retiring, retireMoving,
      windows, openWindows, editWindow, saveWindow, toggleWindow, areaName, DOMAINS, nameOf,
      KINDS: ["group", "company", "branch"],
    };
  },
  template: `
  <div class="admin-reference">
    <div class="page-head"><h2>{{ t('refAdminUi.enterprises') }}</h2>
      <el-button type="primary" @click="edit(null)" data-test="unit-new">{{ t('refAdminUi.newUnit') }}</el-button></div>
    <div class="admin-filters">
      <el-input v-model="filters.text" clearable :placeholder="t('refAdminUi.search')" data-test="unit-search" />
      <el-select v-model="filters.kind" clearable :placeholder="t('refAdminUi.kind')">
        <el-option v-for="k in KINDS" :key="k" :value="k" :label="t('refAdminUi.unitKinds.' + k)" />
      </el-select>
      <el-select v-model="filters.active" :placeholder="t('refAdminUi.state')">
        <el-option value="" :label="t('app.all')" /><el-option value="true" :label="t('refAdminUi.active')" />
        <el-option value="false" :label="t('refAdminUi.retired')" />
      </el-select>
    </div>
    <el-card shadow="never" class="panel">
      <el-table :data="shown" size="small" data-test="units">
        <el-table-column prop="code" :label="t('refAdminUi.code')" width="130" />
        <el-table-column :label="t('refAdminUi.name')" min-width="170">
          <template #default="{ row }">{{ nameOf(row) }}<div v-if="row.parent_id" class="tiny muted">{{ nameOf(byId[row.parent_id]) }}</div></template>
        </el-table-column>
        <el-table-column :label="t('refAdminUi.kind')" width="90">
          <template #default="{ row }">{{ t('refAdminUi.unitKinds.' + row.kind) }}</template>
        </el-table-column>
        <el-table-column :label="t('refAdminUi.domains')" width="140">
          <template #default="{ row }">{{ row.domains.map((d) => t('domain.' + d)).join('、') || '—' }}</template>
        </el-table-column>
        <el-table-column :label="t('refAdminUi.windows')" width="80" prop="windows" />
        <el-table-column :label="t('refAdminUi.state')" width="100">
          <template #default="{ row }"><el-tag :type="row.active ? 'success' : 'info'" size="small">{{ row.active ? t('refAdminUi.active') : t('refAdminUi.retired') }}</el-tag></template>
        </el-table-column>
        <el-table-column :label="t('app.actions')" width="250">
          <template #default="{ row }">
            <el-button link type="primary" @click="edit(row)">{{ t('refAdminUi.edit') }}</el-button>
            <el-button link @click="openWindows(row)">{{ t('refAdminUi.windows') }}</el-button>
            <el-button link :type="row.active ? 'danger' : 'success'" @click="toggle(row)" :data-test="'unit-toggle-' + row.code">{{ row.active ? t('refAdminUi.retire') : t('refAdminUi.restore') }}</el-button>
            <el-button link @click="showHistory(row)">{{ t('refAdminUi.history') }}</el-button>
          </template>
        </el-table-column>
      </el-table>
    </el-card>
    <el-dialog v-model="dialog.open" :title="dialog.editing ? t('refAdminUi.editUnit') : t('refAdminUi.newUnit')" width="560px">
      <el-form label-width="110px">
        <el-form-item v-if="!dialog.editing" :label="t('refAdminUi.code')" :error="dialog.errors.code"><el-input v-model="form.code" /></el-form-item>
        <el-form-item :label="t('refAdminUi.kind')">
          <el-radio-group v-model="form.kind"><el-radio-button v-for="k in KINDS" :key="k" :value="k">{{ t('refAdminUi.unitKinds.' + k) }}</el-radio-button></el-radio-group>
        </el-form-item>
        <el-form-item v-if="form.kind === 'branch'" :label="t('refAdminUi.parent')" :error="dialog.errors.parent_code">
          <el-select v-model="form.parent_code" filterable><el-option v-for="p in parents" :key="p.code" :value="p.code" :label="nameOf(p)" /></el-select>
        </el-form-item>
        <el-form-item :label="t('refAdminUi.nameZh')" :error="dialog.errors.name_zh"><el-input v-model="form.name_zh" /></el-form-item>
        <el-form-item :label="t('refAdminUi.nameEn')" :error="dialog.errors.name_en"><el-input v-model="form.name_en" /></el-form-item>
        <el-form-item :label="t('refAdminUi.domains')">
          <el-checkbox-group v-model="form.domains"><el-checkbox v-for="d in DOMAINS" :key="d" :value="d">{{ t('domain.' + d) }}</el-checkbox></el-checkbox-group>
        </el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="dialog.open = false">{{ t('refAdminUi.cancel') }}</el-button>
        <el-button type="primary" :loading="dialog.saving" @click="save">{{ t('refAdminUi.save') }}</el-button>
      </template>
    </el-dialog>
    <el-dialog v-model="retiring.open" :title="t('refAdminUi.refused')" width="560px">
      <el-alert type="warning" :closable="false" show-icon :title="retiring.message" data-test="unit-refusal" />
      <p class="muted">{{ t('refAdminUi.moveRulesHint') }}</p>
      <el-select v-model="retiring.moveTo" filterable :placeholder="t('refAdminUi.moveTo')">
        <el-option v-for="p in shown.filter((r) => r.active && r.code !== retiring.row?.code)" :key="p.code" :value="p.code" :label="nameOf(p)" />
      </el-select>
      <template #footer>
        <el-button @click="retiring.open = false">{{ t('refAdminUi.cancel') }}</el-button>
        <el-button type="danger" :disabled="!retiring.moveTo" :loading="retiring.busy" @click="retireMoving">{{ t('refAdminUi.moveAndRetire') }}</el-button>
      </template>
    </el-dialog>
    <el-drawer v-model="windows.open" :title="t('refAdminUi.windows') + ' · ' + nameOf(windows.unit)" size="640px">
      <el-button size="small" type="primary" @click="editWindow(null)">{{ t('refAdminUi.newWindow') }}</el-button>
      <el-form v-if="windows.form" label-width="100px" class="ref-window-form">
        <el-form-item v-if="!windows.editing" :label="t('refAdminUi.code')" :error="windows.errors.code"><el-input v-model="windows.form.code" /></el-form-item>
        <el-form-item :label="t('refAdminUi.nameZh')" :error="windows.errors.name_zh"><el-input v-model="windows.form.name_zh" /></el-form-item>
        <el-form-item :label="t('refAdminUi.nameEn')" :error="windows.errors.name_en"><el-input v-model="windows.form.name_en" /></el-form-item>
        <el-form-item :label="t('refAdminUi.area')" :error="windows.errors.area_code">
          <el-select v-model="windows.form.area_code" clearable filterable><el-option v-for="a in areas" :key="a.code" :value="a.code" :label="nameOf(a)" /></el-select>
        </el-form-item>
        <el-form-item><el-button type="primary" @click="saveWindow">{{ t('refAdminUi.save') }}</el-button>
          <el-button @click="windows.form = null">{{ t('refAdminUi.cancel') }}</el-button></el-form-item>
      </el-form>
      <el-table :data="windows.rows" size="small">
        <el-table-column prop="code" :label="t('refAdminUi.code')" width="120" />
        <el-table-column :label="t('refAdminUi.name')"><template #default="{ row }">{{ nameOf(row) }}</template></el-table-column>
        <el-table-column :label="t('refAdminUi.area')" width="110"><template #default="{ row }">{{ areaName(row.area_code) }}</template></el-table-column>
        <el-table-column :label="t('refAdminUi.state')" width="90">
          <template #default="{ row }">{{ row.active ? t('refAdminUi.active') : t('refAdminUi.retired') }}</template>
        </el-table-column>
        <el-table-column width="120">
          <template #default="{ row }">
            <el-button link type="primary" @click="editWindow(row)">{{ t('refAdminUi.edit') }}</el-button>
            <el-button link @click="toggleWindow(row)">{{ row.active ? t('refAdminUi.retire') : t('refAdminUi.restore') }}</el-button>
          </template>
        </el-table-column>
      </el-table>
    </el-drawer>
    <HistoryDrawer :history="history" :entity="entity" />
  </div>`,
};
