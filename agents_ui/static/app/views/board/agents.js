// The agents' status: who is available, on a call, wrapping up or away, and since when.

import { useI18n } from "vue-i18n";

export default {
  props: { rows: Array }, // GET /api/v1/agents
  setup() {
    const { t } = useI18n();
    return { t };
  },
  template: `
  <el-table :data="rows" size="small" :empty-text="t('board.empty')" data-test="agent-states">
    <el-table-column :label="t('board.agentName')" prop="display_name" min-width="140" />
    <el-table-column :label="t('agent.hotline')" prop="hotline_code" width="100" />
    <el-table-column :label="t('unit.state')" width="130"><template #default="{ row }">
      <el-tag disable-transitions size="small" :type="{ available: 'success', busy: 'danger', after_call: 'warning' }[row.status] || 'info'">{{ t('agentStatus.' + row.status) }}</el-tag></template></el-table-column>
    <el-table-column :label="t('board.since')" width="140"><template #default="{ row }">{{ $fmtTime(row.since) }}</template></el-table-column>
  </el-table>`,
};
