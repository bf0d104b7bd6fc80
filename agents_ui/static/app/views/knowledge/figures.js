// The knowledge base's figures (#/knowledge/figures, supervisors) over a period: how often
// each article answered a call, and the gaps: what was asked that no article answered
// (searches that found nothing, consultations registered while none matched), the most
// asked first, each with a button to write the article it lacked.

import { onMounted, ref } from "vue";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { errorText, go } from "../../store.js";
import { KbNav, centreDay } from "./common.js";

// The period shown first: the last thirty days.
const DAYS = 30;

export default {
  components: { KbNav },
  setup() {
    const { t } = useI18n();
    const period = ref([centreDay(DAYS - 1), centreDay()]);
    const usage = ref([]);
    const gaps = ref([]);
    const error = ref("");
    const loading = ref(false);
    async function load() {
      if (!period.value) return;
      const [from, to] = period.value;
      loading.value = true;
      try {
        const [used, missing] = await Promise.all([
          api.get("/api/v1/knowledge/usage", { from, to }),
          api.get("/api/v1/knowledge/gaps", { from, to }),
        ]);
        usage.value = used.items;
        gaps.value = missing.items;
        error.value = "";
      } catch (e) {
        error.value = errorText(e);
      } finally {
        loading.value = false;
      }
    }
    onMounted(load);
    const write = (gap) => go(`/knowledge/new?question=${encodeURIComponent(gap.question)}`);
    return { t, period, usage, gaps, error, loading, load, write };
  },
  template: `
  <div class="kb-page">
    <KbNav active="figures" />
    <div class="tab-toolbar kb-period">
      <el-date-picker v-model="period" type="daterange" value-format="YYYY-MM-DD" unlink-panels :clearable="false"
                      :start-placeholder="t('kbUi.from')" :end-placeholder="t('kbUi.to')" data-test="kb-period" @change="load" />
      <el-button :loading="loading" @click="load">{{ t('app.refresh') }}</el-button>
    </div>
    <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" />
    <div class="two-col">
      <el-card shadow="never" class="panel" data-test="kb-usage">
        <template #header><div class="panel-head"><span>{{ t('kbUi.usage') }}</span>
          <span class="muted small">{{ t('kbUi.usageHint') }}</span></div></template>
        <el-table :data="usage" size="small" :empty-text="t('kbUi.noUsage')">
          <el-table-column :label="t('kbUi.fields.title')" min-width="200"><template #default="{ row }">
            <a class="link" :href="'#/knowledge/' + row.article_id" :data-article="row.article_id">{{ row.title }}</a></template></el-table-column>
          <el-table-column :label="t('kbUi.kind')" width="90"><template #default="{ row }">{{ t('kbUi.kinds.' + row.kind) }}</template></el-table-column>
          <el-table-column :label="t('kbUi.answers')" width="90" align="right"><template #default="{ row }">
            <span class="rate" data-test="kb-usage-answers">{{ row.answers }}</span></template></el-table-column>
          <el-table-column :label="t('kbUi.lastAnswered')" width="120"><template #default="{ row }">{{ $fmtTime(row.last_answered_at) }}</template></el-table-column>
        </el-table>
      </el-card>
      <el-card shadow="never" class="panel" data-test="kb-gaps">
        <template #header><div class="panel-head"><span>{{ t('kbUi.gaps') }}</span>
          <span class="muted small">{{ t('kbUi.gapsHint') }}</span></div></template>
        <el-table :data="gaps" size="small" :empty-text="t('kbUi.noGaps')">
          <el-table-column :label="t('kbUi.question')" min-width="200"><template #default="{ row }">
            <span class="kb-gap-question">{{ row.question }}</span>
            <a v-if="row.order_id" class="small kb-gap-order" :href="'#/orders/' + row.order_id">{{ t('kbUi.gapOrder') }}</a></template></el-table-column>
          <el-table-column :label="t('kbUi.times')" width="70" align="right"><template #default="{ row }">
            <span class="rate">{{ row.times }}</span></template></el-table-column>
          <el-table-column :label="t('kbUi.lastAsked')" width="110"><template #default="{ row }">
            {{ $fmtTime(row.last_asked_at) }}<div class="muted tiny">{{ row.hotline || '' }}</div></template></el-table-column>
          <el-table-column width="110"><template #default="{ row }">
            <el-button size="small" type="primary" plain data-test="kb-write-gap" @click="write(row)">{{ t('kbUi.writeArticle') }}</el-button></template></el-table-column>
        </el-table>
      </el-card>
    </div>
  </div>`,
};
