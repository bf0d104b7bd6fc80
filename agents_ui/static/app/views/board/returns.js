// Returns to review: a unit sent a dispatch back; the supervisor upholds the return (the
// next unit gets it) or overrules it (the unit must take it), with a note.

import { reactive } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { errorText } from "../../store.js";

export default {
  props: { rows: Array }, // GET /api/v1/returns
  emits: ["decided"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const review = reactive({ open: false, row: null, decision: "uphold", note: "", saving: false });

    function openReview(row, decision) {
      Object.assign(review, { open: true, row, decision, note: "", saving: false });
    }
    async function submitReview() {
      if (review.decision === "overrule" && !review.note.trim()) {
        ElMessage.warning(t("board.overruleNeedsNote"));
        return;
      }
      review.saving = true;
      try {
        await api.post(`/api/v1/returns/${review.row.id}/review`, { decision: review.decision, note: review.note });
        ElMessage.success(t("board.decidedOk"));
        review.open = false;
        emit("decided");
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        review.saving = false;
      }
    }

    return { t, review, openReview, submitReview };
  },
  template: `
  <el-table :data="rows" size="small" :empty-text="t('board.empty')" data-test="returns">
    <el-table-column :label="t('unit.number')" width="190">
      <template #default="{ row }"><a class="mono link" :href="'#/orders/' + row.order_id">{{ row.number }}</a></template>
    </el-table-column>
    <el-table-column :label="t('board.returnedBy')" min-width="140"><template #default="{ row }">{{ $unitName(row.enterprise_id) || row.enterprise_name }}</template></el-table-column>
    <el-table-column :label="t('board.reason')" min-width="240">
      <template #default="{ row }"><el-tag disable-transitions size="small" type="danger" effect="plain">{{ t('returnReason.' + row.reason_code) }}</el-tag>
        <span class="reason-text">{{ row.reason_text }}</span></template>
    </el-table-column>
    <el-table-column :label="t('board.bounces')" prop="bounce_count" width="80" align="center" />
    <el-table-column :label="t('board.returnedAt')" width="120">
      <template #default="{ row }">{{ $fmtTime(row.created_at) }}</template>
    </el-table-column>
    <el-table-column :label="t('app.actions')" width="300">
      <template #default="{ row }">
        <div class="row-actions">
          <el-button size="small" type="primary" @click="openReview(row, 'uphold')">{{ t('board.uphold') }}</el-button>
          <el-button size="small" type="danger" plain @click="openReview(row, 'overrule')">{{ t('board.overrule') }}</el-button>
        </div>
      </template>
    </el-table-column>
  </el-table>

  <el-dialog v-model="review.open" width="520px"
             :title="(review.decision === 'uphold' ? t('board.uphold') : t('board.overrule')) + ' · ' + (review.row?.number || '')">
    <template v-if="review.row">
      <p><el-tag disable-transitions size="small" type="danger" effect="plain">{{ t('returnReason.' + review.row.reason_code) }}</el-tag>
         <span class="reason-text">{{ review.row.reason_text }}</span></p>
      <el-input v-model="review.note" type="textarea" :rows="3" :placeholder="t('board.reviewNote')" maxlength="2000" />
    </template>
    <template #footer>
      <el-button @click="review.open = false">{{ t('app.cancel') }}</el-button>
      <el-button type="primary" :loading="review.saving" @click="submitReview">{{ t('app.submit') }}</el-button>
    </template>
  </el-dialog>`,
};
