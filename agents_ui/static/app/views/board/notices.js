// The ladder's notices (reminders, yellow and red cards) to units, newest first.

import { useI18n } from "vue-i18n";
import { unitName } from "../../store.js";

export default {
  props: { rows: Array }, // GET /api/v1/supervision/notices
  setup() {
    const { t } = useI18n();
    return { t, unitName };
  },
  template: `
  <el-table :data="rows" size="small" :empty-text="t('board.empty')">
    <el-table-column :label="t('board.level')" width="110"><template #default="{ row }">
      <el-tag disable-transitions size="small" :type="row.level === 'yellow' || row.level === 'reminder' ? 'warning' : 'danger'">{{ t('level.' + row.level) }}</el-tag></template></el-table-column>
    <el-table-column :label="t('unit.number')" width="190"><template #default="{ row }"><a class="mono link" :href="'#/orders/' + row.order_id">{{ row.number }}</a></template></el-table-column>
    <el-table-column :label="t('board.unit')" min-width="140"><template #default="{ row }">{{ unitName(row.enterprise_id) || row.enterprise_name }}</template></el-table-column>
    <el-table-column :label="t('board.message')" min-width="240"><template #default="{ row }">{{ t('noticeText.' + row.level) }}</template></el-table-column>
    <el-table-column :label="t('board.at')" width="120"><template #default="{ row }">{{ $fmtTime(row.created_at) }}</template></el-table-column>
  </el-table>`,
};
