// Extension and suspension requests of units: approve or reject each.

import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { errorText } from "../../store.js";

export default {
  props: { rows: Array }, // GET /api/v1/time-requests
  emits: ["decided"],
  setup(props, { emit }) {
    const { t } = useI18n();
    async function decideTime(row, decision) {
      try {
        await api.post(`/api/v1/time-requests/${row.id}/decision`, { decision, note: "" });
        ElMessage.success(t("board.decidedOk"));
        emit("decided");
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }
    return { t, decideTime };
  },
  template: `
  <el-table :data="rows" size="small" :empty-text="t('board.empty')">
    <el-table-column :label="t('unit.number')" width="190">
      <template #default="{ row }"><a class="mono link" :href="'#/orders/' + row.order_id">{{ row.number }}</a></template>
    </el-table-column>
    <el-table-column :label="t('board.unit')" min-width="140"><template #default="{ row }">{{ $unitName(row.enterprise_id) || row.enterprise_name }}</template></el-table-column>
    <el-table-column :label="t('board.reason')" min-width="220">
      <template #default="{ row }"><el-tag disable-transitions size="small" effect="plain">{{ t('unit.extensionKinds.' + row.kind) }}</el-tag>
        <span class="reason-text">{{ row.reason }}</span></template>
    </el-table-column>
    <el-table-column :label="t('board.currentDue')" width="120"><template #default="{ row }">{{ $fmtTime(row.resolution_due_at) }}</template></el-table-column>
    <el-table-column :label="t('board.requestedDue')" width="120"><template #default="{ row }">{{ $fmtTime(row.requested_due_at) }}</template></el-table-column>
    <el-table-column :label="t('app.actions')" width="180">
      <template #default="{ row }">
        <el-button size="small" type="primary" @click="decideTime(row, 'approve')">{{ t('board.approve') }}</el-button>
        <el-button size="small" @click="decideTime(row, 'reject')">{{ t('board.reject') }}</el-button>
      </template>
    </el-table-column>
  </el-table>`,
};
