// 来电人档案: callers with a profile, found by number or name and by flag (special needs,
// key account, a representative, notes), each opened in the screen-pop's profile editor
// (its changes recorded with the profile, as when an agent makes them).

import { onMounted, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { errorText } from "../../store.js";
import CallerProfile from "../agent/caller_profile.js";

const FLAGS = ["special_needs", "key_account", "representative", "notes"];

export default {
  components: { CallerProfile },
  setup() {
    const { t } = useI18n();
    const filters = reactive({ q: "", flag: "" });
    const callers = ref([]);
    const editor = reactive({ open: false, profile: null });
    const lookup = ref("");

    async function load() {
      callers.value = (await api.get("/api/v1/admin/callers", filters)).items;
    }
    onMounted(load);

    // Any number opens its profile: a number never heard from gets one when saved.
    async function open(phone) {
      try {
        editor.profile = await api.get("/api/v1/callers/" + encodeURIComponent(phone));
        editor.open = true;
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    return { t, FLAGS, filters, callers, load, editor, open, lookup };
  },
  template: `
  <div class="admin-callers">
    <div class="page-head"><h2>{{ t('adminUi.callersTitle') }}</h2></div>
    <div class="admin-filters">
      <el-input v-model="filters.q" clearable :placeholder="t('adminUi.searchCaller')" @keyup.enter="load" @clear="load" />
      <el-select v-model="filters.flag" clearable :placeholder="t('adminUi.flag')" data-test="caller-flag" @change="load">
        <el-option v-for="f in FLAGS" :key="f" :value="f" :label="t('adminUi.flags.' + f)" />
      </el-select>
      <el-button @click="load">{{ t('app.refresh') }}</el-button>
      <span class="grow"></span>
      <form class="admin-filters" style="margin: 0" @submit.prevent="open(lookup)">
        <el-input v-model="lookup" :placeholder="t('adminUi.phone')" data-test="caller-lookup" />
        <el-button type="primary" native-type="submit" :disabled="!lookup">{{ t('adminUi.openProfile') }}</el-button>
      </form>
    </div>
    <el-card shadow="never" class="panel">
      <el-table :data="callers" data-test="callers" :empty-text="t('adminUi.noCallers')">
        <el-table-column :label="t('adminUi.phone')" width="150">
          <template #default="{ row }"><span class="mono">{{ row.phone }}</span></template>
        </el-table-column>
        <el-table-column :label="t('adminUi.callerName')" prop="name" min-width="110" />
        <el-table-column :label="t('adminUi.flag')" min-width="200">
          <template #default="{ row }">
            <el-tag v-if="row.special_needs" disable-transitions size="small" type="warning">{{ t('adminUi.flags.special_needs') }}</el-tag>
            <el-tag v-if="row.key_account" disable-transitions size="small" type="danger">{{ t('adminUi.flags.key_account') }}</el-tag>
            <span v-if="row.representative" class="small"> {{ t('adminUi.flags.representative') }}：{{ row.representative }}</span>
          </template>
        </el-table-column>
        <el-table-column :label="t('adminUi.notes')" min-width="180">
          <template #default="{ row }"><span class="clamp-2 small">{{ row.notes }}</span></template>
        </el-table-column>
        <el-table-column :label="t('adminUi.updatedAt')" width="150">
          <template #default="{ row }">{{ $fmtTime(row.updated_at, true) }}</template>
        </el-table-column>
        <el-table-column :label="t('app.actions')" width="90">
          <template #default="{ row }"><el-button size="small" link type="primary" @click="open(row.phone)">{{ t('app.edit') }}</el-button></template>
        </el-table-column>
      </el-table>
    </el-card>
    <CallerProfile v-model="editor.open" :profile="editor.profile" @saved="load" />
  </div>`,
};
