// What the administrators' screens share: the menu's icons, a secret shown once, and a
// list of recorded changes (GET /api/v1/admin/changes).

import { ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";

// Line icons of the menu (24 × 24, drawn with the text's colour).
const ICONS = {
  bars: "M4 6h16M4 12h16M4 18h16",
  work: "M4 7h16v12H4zM9 7V5h6v2M4 12h16",
  search: "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM16 16l4 4",
  stats: "M5 19V11M10 19V5M15 19v-6M20 19V8M3 19h18",
  knowledge: "M5 4h10l4 4v12H5zM15 4v4h4M8 12h8M8 16h6",
  system: "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM12 3v3M12 18v3M3 12h3M18 12h3M5.6 5.6l2.1 2.1M16.3 16.3l2.1 2.1M5.6 18.4l2.1-2.1M16.3 7.7l2.1-2.1",
  more: "M6 12h.01M12 12h.01M18 12h.01",
};

export const MenuIcon = {
  props: { name: String },
  setup(props) {
    return { d: () => ICONS[props.name] || ICONS.more };
  },
  template: `<svg class="menu-icon" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor"
       stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path :d="d()" /></svg>`,
};

// A password or key the server answers once: shown with a copy button and a warning.
export const ShownOnce = {
  props: { value: String, hint: String },
  setup(props) {
    const { t } = useI18n();
    async function copy() {
      try {
        await navigator.clipboard.writeText(props.value);
        ElMessage.success(t("adminUi.copied"));
      } catch {
        ElMessage.warning(t("adminUi.copyByHand"));
      }
    }
    return { t, copy };
  },
  template: `
  <div>
    <el-alert type="warning" :closable="false" show-icon :title="hint || t('adminUi.shownOnce')" />
    <div class="secret-box"><span class="mono" data-test="secret">{{ value }}</span>
      <el-button size="small" @click="copy">{{ t('adminUi.copy') }}</el-button></div>
  </div>`,
};

// The recorded changes of one thing (entity and key) or of every thing of a kind.
export const ChangeList = {
  props: { entity: String, thingKey: String, limit: { type: Number, default: 50 } },
  setup(props) {
    const { t, te } = useI18n();
    const rows = ref([]);
    async function load() {
      const query = { entity: props.entity, key: props.thingKey, limit: props.limit };
      rows.value = (await api.get("/api/v1/admin/changes", query)).items;
    }
    watch(() => [props.entity, props.thingKey], load, { immediate: true });
    const label = (kind, value) => (te(`adminUi.${kind}.${value}`) ? t(`adminUi.${kind}.${value}`) : value);
    const shown = (value) => (typeof value === "string" ? value : JSON.stringify(value));
    const empty = (value) => value === null || value === "" || (Array.isArray(value) && !value.length);
    // What changed: a new thing's values that are set; else the fields whose value
    // differs, as "field: before → after".
    function diff(row) {
      const before = row.before || {};
      const after = row.after || {};
      if (!row.before) {
        return Object.entries(after).filter(([, v]) => !empty(v)).map(([k, v]) => `${k}: ${shown(v)}`).join(" · ");
      }
      return Object.keys({ ...before, ...after })
        .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
        .map((k) => `${k}: ${empty(before[k]) ? "—" : shown(before[k])} → ${empty(after[k]) ? "—" : shown(after[k])}`)
        .join("\n");
    }
    // The thing's name where the record has one (a user's username, a key's name).
    const named = (row) => row.after?.username || row.before?.username || row.after?.name || "";
    return { t, rows, label, diff, named, load };
  },
  template: `
  <el-table :data="rows" size="small" data-test="changes" :empty-text="t('adminUi.noChanges')">
    <el-table-column :label="t('adminUi.at')" width="150">
      <template #default="{ row }">{{ $fmtTime(row.at, true) }}</template>
    </el-table-column>
    <el-table-column :label="t('adminUi.by')" width="120">
      <template #default="{ row }">{{ row.username || t('adminUi.commandLine') }}</template>
    </el-table-column>
    <el-table-column :label="t('adminUi.what')" width="150">
      <template #default="{ row }">{{ label('entities', row.entity) }} {{ row.entity_key }}
        <div v-if="named(row)" class="tiny muted">{{ named(row) }}</div></template>
    </el-table-column>
    <el-table-column :label="t('adminUi.action')" width="110">
      <template #default="{ row }"><span data-test="change-action">{{ label('actions', row.action) }}</span></template>
    </el-table-column>
    <el-table-column :label="t('adminUi.detail')" min-width="220">
      <template #default="{ row }"><div class="change-doc">{{ diff(row) }}</div></template>
    </el-table-column>
  </el-table>`,
};
