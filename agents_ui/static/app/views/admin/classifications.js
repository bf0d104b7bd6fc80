// 诉求分类: the GB/T 39666 classification codes (/api/v1/admin/classifications) as a tree,
// major → middle → minor class, with the same add / rename / retire / history as the
// other reference screens, and the official table loaded from a CSV file (checked first,
// then imported whole or not at all).

import { computed, reactive } from "vue";
import { ElMessage } from "element-plus";
import { api } from "../../api.js";
import { errorText, nameOf } from "../../store.js";
import { HistoryDrawer, activeFilter, matches, useAdminList } from "./reference.js";

const BASE = "/api/v1/admin/classifications";

// The rows (by code: a class before what sits in it) as a tree; a row shows when it or a
// class under it is wanted, so a search keeps the path to what it found.
function treeOf(rows, wanted) {
  const nodes = Object.fromEntries(rows.map((r) => [r.code, { ...r, children: [] }]));
  const kept = new Set();
  for (const row of rows.filter(wanted)) {
    for (let code = row.code; code && nodes[code] && !kept.has(code); code = nodes[code].parent_code) kept.add(code);
  }
  const roots = [];
  for (const row of rows) {
    if (!kept.has(row.code)) continue;
    const parent = row.parent_code && nodes[row.parent_code];
    (parent ? parent.children : roots).push(nodes[row.code]);
  }
  return roots;
}

// The first code free under a class: what "add a sub-class" proposes.
function nextCode(rows, parent) {
  const taken = new Set(rows.map((r) => r.code));
  const step = parent.level === "major" ? 100 : 1;
  for (let n = Number(parent.code) + step, i = 1; i < 100; n += step, i += 1) {
    const code = String(n).padStart(6, "0");
    if (!taken.has(code)) return code;
  }
  return parent.code;
}

export const AdminClassificationsPage = {
  components: { HistoryDrawer },
  setup() {
    const list = useAdminList(BASE, "classification");
    const { t } = list;
    const filters = reactive({ text: "", active: "" });
    const form = reactive({ code: "", name_zh: "", name_en: "" });
    const tree = computed(() =>
      treeOf(list.rows.value, (r) => matches(r, filters.text) && activeFilter(r, filters.active)),
    );
    const counts = computed(() => {
      const by = { major: 0, middle: 0, minor: 0 };
      for (const r of list.rows.value) by[r.level] += 1;
      return by;
    });
    function edit(row, parent) {
      list.dialog.errors = {};
      list.dialog.editing = row ? row.code : null;
      Object.assign(form, row
        ? { code: row.code, name_zh: row.name_zh, name_en: row.name_en }
        : { code: parent ? nextCode(list.rows.value, parent) : "", name_zh: "", name_en: "" });
      list.dialog.open = true;
    }
    function save() {
      const body = { name_zh: form.name_zh, name_en: form.name_en };
      if (!list.dialog.editing) body.code = form.code;
      return list.save(BASE, `${BASE}/${encodeURIComponent(list.dialog.editing)}`, body);
    }
    async function toggle(row) {
      const refusal = await list.toggle(BASE, row);
      if (refusal) await list.refused(refusal);
    }
    // The CSV import: a file is checked (dry run) when chosen, imported on request.
    const importer = reactive({ open: false, file: "", content: "", checked: null, errors: [], busy: false });
    function openImport() {
      Object.assign(importer, { open: true, file: "", content: "", checked: null, errors: [], busy: false });
    }
    // A refusal's lines (fields "rows.N"), in the file's order.
    function lineErrors(e) {
      return Object.entries(e.fields || {}).map(([field, message]) => ({
        field, line: field.startsWith("rows.") ? Number(field.slice(5)) : null, message,
      }));
    }
    async function send(dryRun) {
      importer.busy = true;
      try {
        const result = await api.post(`${BASE}/import`, { content: importer.content, dry_run: dryRun });
        importer.errors = [];
        return result;
      } catch (e) {
        importer.checked = null;
        importer.errors = lineErrors(e);
        if (!importer.errors.length) ElMessage.error(errorText(e));
        return null;
      } finally {
        importer.busy = false;
      }
    }
    async function pickFile(event) {
      const file = event.target.files[0];
      if (!file) return;
      importer.file = file.name;
      importer.content = await file.text();
      importer.checked = await send(true);
    }
    async function saveImport() {
      const stored = await send(false);
      if (!stored) return;
      importer.open = false;
      ElMessage.success(t("classifyUi.imported", { created: stored.created.length, updated: stored.updated.length }));
      await list.load();
    }
    return {
      ...list, filters, form, tree, counts, edit, save, toggle, importer, openImport, pickFile, saveImport, nameOf,
    };
  },
  template: `
  <div class="admin-reference">
    <div class="page-head"><h2>{{ t('classifyUi.title') }}</h2>
      <span>
        <el-button @click="openImport" data-test="cls-import">{{ t('classifyUi.import') }}</el-button>
        <el-button type="primary" @click="edit(null)" data-test="cls-new">{{ t('classifyUi.newCode') }}</el-button>
      </span></div>
    <el-alert type="info" :closable="false" show-icon :title="t('classifyUi.intro')" class="ref-dialog-note" />
    <div class="admin-filters">
      <el-input v-model="filters.text" clearable :placeholder="t('classifyUi.search')" data-test="cls-search" />
      <el-select v-model="filters.active" :placeholder="t('refAdminUi.state')">
        <el-option value="" :label="t('app.all')" /><el-option value="true" :label="t('refAdminUi.active')" />
        <el-option value="false" :label="t('refAdminUi.retired')" />
      </el-select>
      <span class="small muted cls-counts">{{ t('classifyUi.counts', counts) }}</span>
    </div>
    <el-card shadow="never" class="panel">
      <el-table :data="tree" size="small" row-key="code" default-expand-all data-test="cls-tree" :empty-text="t('classifyUi.empty')">
        <el-table-column :label="t('refAdminUi.code')" width="150">
          <template #default="{ row }"><span class="cls-code" :data-test="'cls-' + row.code">{{ row.code }}</span></template>
        </el-table-column>
        <el-table-column :label="t('refAdminUi.name')" min-width="200">
          <template #default="{ row }"><span :class="'cls-' + row.level">{{ nameOf(row) }}</span></template>
        </el-table-column>
        <el-table-column :label="t('refAdminUi.level')" width="90">
          <template #default="{ row }">{{ t('classifyUi.levels.' + row.level) }}</template>
        </el-table-column>
        <el-table-column :label="t('classifyUi.items')" width="90" prop="items" />
        <el-table-column :label="t('refAdminUi.state')" width="100">
          <template #default="{ row }"><el-tag :type="row.active ? 'success' : 'info'" size="small">{{ row.active ? t('refAdminUi.active') : t('refAdminUi.retired') }}</el-tag></template>
        </el-table-column>
        <el-table-column :label="t('app.actions')" width="330">
          <template #default="{ row }">
            <el-button link type="primary" @click="edit(row)" :data-test="'cls-edit-' + row.code">{{ t('refAdminUi.rename') }}</el-button>
            <el-button v-if="row.level !== 'minor' && row.active" link @click="edit(null, row)">{{ t('classifyUi.addChild') }}</el-button>
            <el-button link :type="row.active ? 'danger' : 'success'" @click="toggle(row)" :data-test="'cls-toggle-' + row.code">{{ row.active ? t('refAdminUi.retire') : t('refAdminUi.restore') }}</el-button>
            <el-button link @click="showHistory(row)">{{ t('refAdminUi.history') }}</el-button>
          </template>
        </el-table-column>
      </el-table>
    </el-card>
    <el-dialog v-model="dialog.open" :title="dialog.editing ? t('classifyUi.editCode') : t('classifyUi.newCode')" width="520px">
      <el-form label-width="110px" data-test="cls-form">
        <el-form-item v-if="!dialog.editing" :label="t('refAdminUi.code')" :error="dialog.errors.code">
          <el-input v-model="form.code" maxlength="6" data-test="cls-code" />
          <div class="tiny muted">{{ t('classifyUi.codeHint') }}</div>
        </el-form-item>
        <el-form-item :label="t('refAdminUi.nameZh')" :error="dialog.errors.name_zh"><el-input v-model="form.name_zh" data-test="cls-name-zh" /></el-form-item>
        <el-form-item :label="t('refAdminUi.nameEn')" :error="dialog.errors.name_en"><el-input v-model="form.name_en" /></el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="dialog.open = false">{{ t('refAdminUi.cancel') }}</el-button>
        <el-button type="primary" :loading="dialog.saving" @click="save" data-test="cls-save">{{ t('refAdminUi.save') }}</el-button>
      </template>
    </el-dialog>
    <el-dialog v-model="importer.open" width="620px" :title="t('classifyUi.importTitle')">
      <p class="small muted">{{ t('classifyUi.importHint') }}</p>
      <label class="el-button el-button--small cal-file">
        {{ t('classifyUi.chooseFile') }}
        <input type="file" accept=".csv,text/csv" data-test="cls-file" @change="pickFile" />
      </label>
      <span class="small cal-file-name">{{ importer.file }}</span>
      <el-alert v-if="importer.checked" type="success" :closable="false" class="cls-import-result" data-test="cls-checked"
        :title="t('classifyUi.checked', { created: importer.checked.created.length, updated: importer.checked.updated.length, unchanged: importer.checked.unchanged })" />
      <div v-if="importer.errors.length" class="cls-import-result" data-test="cls-errors">
        <p class="small cal-error-text">{{ t('classifyUi.refused') }}</p>
        <el-table :data="importer.errors" size="small" max-height="260">
          <el-table-column :label="t('classifyUi.line')" width="80">
            <template #default="{ row }">{{ row.line ?? '—' }}</template>
          </el-table-column>
          <el-table-column :label="t('classifyUi.problem')" prop="message" />
        </el-table>
      </div>
      <template #footer>
        <el-button @click="importer.open = false">{{ t('app.cancel') }}</el-button>
        <el-button type="primary" :disabled="!importer.checked" :loading="importer.busy" data-test="cls-import-save" @click="saveImport">{{ t('classifyUi.doImport') }}</el-button>
      </template>
    </el-dialog>
    <HistoryDrawer :history="history" :entity="entity" />
  </div>`,
};
