// The routing rule editor: which units take a service item (or a whole utility) in an
// area, in order, with assisting units; every change is kept in the rule's history.

import { computed, onMounted, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { areaName, errorText, itemName, nameOf, refs, session, unitName } from "../store.js";
import { DOMAINS, SUPERVISOR_ROLES } from "../vocab.js";
import { AreaSelect, ItemSelect } from "./pickers.js";

export default {
  components: { AreaSelect, ItemSelect },
  setup() {
    const { t } = useI18n();
    const rules = ref([]);
    const showInactive = ref(false);
    const editor = reactive({ open: false, id: null, saving: false, form: {} });
    const history = reactive({ open: false, rule: null, items: [] });
    const canEdit = SUPERVISOR_ROLES.includes(session.user.role);

    async function load() {
      rules.value = (await api.get("/api/v1/routing/rules", { include_inactive: showInactive.value })).items;
    }
    onMounted(load);

    function edit(rule) {
      editor.id = rule ? rule.id : null;
      editor.form = rule
        ? {
            target: rule.service_item_code ? "item" : "domain",
            service_item: rule.service_item_code || "",
            domain: rule.domain || "water",
            area: rule.area_code || "",
            candidates: [...rule.candidates],
            assisting: [...rule.assisting],
            note: rule.note,
          }
        : { target: "item", service_item: "", domain: "water", area: "", candidates: [], assisting: [], note: "" };
      editor.open = true;
    }

    async function save() {
      const f = editor.form;
      const body = {
        service_item_code: f.target === "item" ? f.service_item || null : null,
        domain: f.target === "domain" ? f.domain : null,
        area_code: f.area || null,
        candidates: f.candidates,
        assisting: f.assisting.filter((id) => !f.candidates.includes(id)),
        note: f.note,
      };
      editor.saving = true;
      try {
        if (editor.id) await api.put(`/api/v1/routing/rules/${editor.id}`, body);
        else await api.post("/api/v1/routing/rules", body);
        ElMessage.success(t("rules.saved"));
        editor.open = false;
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        editor.saving = false;
      }
    }

    async function toggle(rule) {
      try {
        await api.post(`/api/v1/routing/rules/${rule.id}/${rule.active ? "disable" : "enable"}`);
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    async function showHistory(rule) {
      history.rule = rule;
      history.items = (await api.get(`/api/v1/routing/rules/${rule.id}/history`)).items;
      history.open = true;
    }

    const target = (rule) =>
      rule.service_item_code ? itemName(rule.service_item_code) : t("rules.domainScope", { domain: t("domain." + rule.domain) });
    const units = (ids) => ids.map(unitName).join(" → ");
    const enterprises = computed(() => refs.enterprises);

    return {
      t, rules, showInactive, editor, history, canEdit, DOMAINS, load, edit, save, toggle,
      showHistory, target, units, enterprises, areaName, nameOf, unitName,
    };
  },
  template: `
  <div class="rules-page">
    <div class="page-head">
      <h2>{{ t('rules.title') }}</h2>
      <el-checkbox v-model="showInactive" @change="load">{{ t('rules.showInactive') }}</el-checkbox>
      <span class="grow"></span>
      <el-button v-if="canEdit" type="primary" @click="edit(null)">{{ t('rules.newRule') }}</el-button>
    </div>
    <el-card shadow="never" class="panel">
      <el-table :data="rules" size="small" :empty-text="t('board.empty')">
        <el-table-column :label="t('rules.target')" min-width="170"><template #default="{ row }">{{ target(row) }}</template></el-table-column>
        <el-table-column :label="t('rules.area')" min-width="140"><template #default="{ row }">{{ row.area_code ? areaName(row.area_code) : t('rules.anyArea') }}</template></el-table-column>
        <el-table-column :label="t('rules.candidates')" min-width="220"><template #default="{ row }">{{ units(row.candidates) }}</template></el-table-column>
        <el-table-column :label="t('rules.assisting')" min-width="140"><template #default="{ row }">{{ units(row.assisting) || '—' }}</template></el-table-column>
        <el-table-column :label="t('rules.note')" prop="note" min-width="140" />
        <el-table-column :label="t('rules.active')" width="80"><template #default="{ row }">
          <el-tag disable-transitions size="small" :type="row.active ? 'success' : 'info'">{{ row.active ? t('app.yes') : t('app.no') }}</el-tag></template></el-table-column>
        <el-table-column :label="t('app.actions')" width="230"><template #default="{ row }">
          <el-button v-if="canEdit" size="small" @click="edit(row)">{{ t('app.edit') }}</el-button>
          <el-button v-if="canEdit" size="small" @click="toggle(row)">{{ row.active ? t('rules.disable') : t('rules.enable') }}</el-button>
          <el-button size="small" text @click="showHistory(row)">{{ t('rules.history') }}</el-button>
        </template></el-table-column>
      </el-table>
    </el-card>

    <el-dialog v-model="editor.open" width="620px" :title="editor.id ? t('app.edit') : t('rules.newRule')">
      <el-form label-position="top">
        <el-form-item :label="t('rules.target')">
          <el-radio-group v-model="editor.form.target">
            <el-radio-button value="item">{{ t('rules.byItem') }}</el-radio-button>
            <el-radio-button value="domain">{{ t('rules.byDomain') }}</el-radio-button>
          </el-radio-group>
        </el-form-item>
        <el-form-item v-if="editor.form.target === 'item'" :label="t('rules.serviceItem')" required>
          <ItemSelect v-model="editor.form.service_item" :placeholder="t('agent.searchItem')" />
        </el-form-item>
        <el-form-item v-else :label="t('rules.domain')" required>
          <el-select v-model="editor.form.domain" class="full">
            <el-option v-for="d in DOMAINS" :key="d" :value="d" :label="t('domain.' + d)" />
          </el-select>
        </el-form-item>
        <el-form-item :label="t('rules.area')">
          <AreaSelect v-model="editor.form.area" :placeholder="t('rules.anyArea')" />
        </el-form-item>
        <el-form-item :label="t('rules.candidates')" required>
          <el-select v-model="editor.form.candidates" multiple filterable class="full">
            <el-option v-for="e in enterprises" :key="e.id" :value="e.id" :label="nameOf(e)" />
          </el-select>
        </el-form-item>
        <el-form-item :label="t('rules.assisting')">
          <el-select v-model="editor.form.assisting" multiple filterable class="full">
            <el-option v-for="e in enterprises" :key="e.id" :value="e.id" :label="nameOf(e)"
                       :disabled="editor.form.candidates.includes(e.id)" />
          </el-select>
        </el-form-item>
        <el-form-item :label="t('rules.note')"><el-input v-model="editor.form.note" maxlength="500" /></el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="editor.open = false">{{ t('app.cancel') }}</el-button>
        <el-button type="primary" :loading="editor.saving" @click="save">{{ t('app.save') }}</el-button>
      </template>
    </el-dialog>

    <el-dialog v-model="history.open" width="620px" :title="t('rules.history')">
      <el-timeline>
        <el-timeline-item v-for="h in history.items" :key="h.id" :timestamp="$fmtTime(h.changed_at, true)" placement="top">
          <div class="strong">{{ t('rules.actions.' + h.action) }} · {{ h.changed_by || t('order.system') }}</div>
          <div class="small">{{ t('rules.candidates') }}: {{ units(h.after.candidates || []) }}</div>
          <div v-if="h.before" class="small muted">{{ units(h.before.candidates || []) }} → {{ units(h.after.candidates || []) }}</div>
        </el-timeline-item>
      </el-timeline>
    </el-dialog>
  </div>`,
};
