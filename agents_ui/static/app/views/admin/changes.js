// 变更记录: what administrators changed, newest first, of every kind or of one.

import { ref } from "vue";
import { useI18n } from "vue-i18n";
import { ChangeList } from "./common.js";

// The kinds of thing the record holds so far; another screen's kind is added here.
const ENTITIES = ["user", "api_key", "webhook", "calendar_year", "enterprise", "window", "area", "service_item"];

export default {
  components: { ChangeList },
  props: { params: Object },
  setup(props) {
    const { t } = useI18n();
    const entity = ref(props.params?.entity || "");
    const key = ref(props.params?.key || "");
    return { t, ENTITIES, entity, key };
  },
  template: `
  <div class="admin-changes">
    <div class="page-head"><h2>{{ t('adminUi.changesTitle') }}</h2></div>
    <div class="admin-filters">
      <el-select v-model="entity" clearable filterable allow-create :placeholder="t('adminUi.what')" data-test="changes-entity">
        <el-option v-for="e in ENTITIES" :key="e" :value="e" :label="t('adminUi.entities.' + e)" />
      </el-select>
      <el-input v-model.lazy="key" clearable :placeholder="t('adminUi.key')" />
    </div>
    <el-card shadow="never" class="panel">
      <ChangeList :entity="entity || undefined" :thing-key="key || undefined" :limit="200" />
    </el-card>
  </div>`,
};
