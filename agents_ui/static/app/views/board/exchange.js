// 12345 对接 on the board (GET /api/v1/exchange/figures): per platform, the orders it sent
// today and those still open, those past its own limits, the on-time rate against them
// and the messages it did not take; a count of failed messages opens their list, where
// each is sent again.

import { ref } from "vue";
import { useI18n } from "vue-i18n";
import { nameOf } from "../../store.js";
import { FailedMessages } from "../exchange.js";

export default {
  components: { FailedMessages },
  props: { figures: Object }, // the figures' answer: {days, as_of, items}
  emits: ["retried"],
  setup() {
    const { t } = useI18n();
    const failedOpen = ref(false);
    const percent = (rate) => (rate === null || rate === undefined ? "—" : `${Math.round(rate * 1000) / 10}%`);
    return { t, failedOpen, percent, nameOf };
  },
  template: `
  <el-card v-if="figures && figures.items.length" shadow="never" class="panel exchange-board" data-test="exchange-board">
    <template #header><div class="panel-head"><span>{{ t('exchangeUi.boardTitle') }}</span>
      <span class="muted small">{{ t('exchangeUi.boardNote', { d: figures.days }) }}</span></div></template>
    <el-table :data="figures.items" size="small">
      <el-table-column :label="t('exchangeUi.platform')" min-width="160">
        <template #default="{ row }">{{ nameOf(row) }} <span class="muted mono tiny">{{ row.code }}</span></template>
      </el-table-column>
      <el-table-column :label="t('exchangeUi.receivedToday')" width="96" align="right" prop="received_today" />
      <el-table-column :label="t('exchangeUi.open')" width="80" align="right" prop="open" />
      <el-table-column :label="t('exchangeUi.overduePlatform')" width="110" align="right">
        <template #default="{ row }"><span :class="{ 'exchange-failed-count': row.overdue > 0 }">{{ row.overdue }}</span></template>
      </el-table-column>
      <el-table-column :label="t('exchangeUi.onTimeRate', { d: figures.days })" width="140" align="right">
        <template #default="{ row }"><span class="rate">{{ percent(row.on_time_rate) }}</span>
          <div class="muted tiny">{{ row.on_time }}/{{ row.completed }}</div></template>
      </el-table-column>
      <el-table-column :label="t('exchangeUi.transferredOut')" width="90" align="right" prop="transferred" />
      <el-table-column :label="t('exchangeUi.queued')" width="80" align="right" prop="queued_messages" />
      <el-table-column :label="t('exchangeUi.failed')" width="90" align="right">
        <template #default="{ row }">
          <a v-if="row.failed_messages > 0" class="link exchange-failed-count" href="" data-test="exchange-board-failed"
             @click.prevent="failedOpen = true">{{ row.failed_messages }}</a>
          <span v-else>0</span></template>
      </el-table-column>
    </el-table>
    <el-dialog v-model="failedOpen" :title="t('exchangeUi.failedTitle')" width="min(900px, 96vw)">
      <FailedMessages v-if="failedOpen" @retried="$emit('retried')" />
    </el-dialog>
  </el-card>`,
};
