// Overdue orders, the most overdue first, with the lead unit and the time past due.

import { useI18n } from "vue-i18n";

export default {
  props: { rows: Array }, // GET /api/v1/orders?overdue=true&sort=due
  setup() {
    const { t } = useI18n();
    return { t };
  },
  template: `
  <el-table :data="rows" size="small" :empty-text="t('board.empty')">
    <el-table-column :label="t('unit.number')" width="190">
      <template #default="{ row }"><a class="mono link" :href="'#/orders/' + row.id">{{ row.number }}</a></template>
    </el-table-column>
    <el-table-column :label="t('unit.item')" min-width="150"><template #default="{ row }">{{ $itemName(row.service_item_code) }}</template></el-table-column>
    <el-table-column :label="t('board.unit')" min-width="140"><template #default="{ row }">{{ row.lead_enterprise_id ? $unitName(row.lead_enterprise_id) : '—' }}</template></el-table-column>
    <el-table-column :label="t('unit.state')" width="110"><template #default="{ row }"><StatusTag :status="row.status" /></template></el-table-column>
    <el-table-column :label="t('unit.resolutionDue')" width="160"><template #default="{ row }"><Countdown :due="row.resolution_due_at" :start="row.created_at" /></template></el-table-column>
  </el-table>`,
};
