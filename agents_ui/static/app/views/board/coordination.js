// Orders in coordination (协调督办: no unit takes them): the supervisor names the lead
// and assisting units from the ranked candidates, a deadline and instructions.

import { reactive } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { errorText, nameOf, refs } from "../../store.js";

export default {
  props: { rows: Array }, // GET /api/v1/orders?status=escalated
  emits: ["decided"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const coord = reactive({
      open: false, order: null, candidates: [], lead: null, assisting: [], due_at: null, note: "", saving: false,
    });

    async function openCoordination(order) {
      Object.assign(coord, {
        open: true, order, candidates: [], lead: null, assisting: [], due_at: null, note: "", saving: false,
      });
      try {
        const ranking = await api.get(`/api/v1/orders/${order.id}/candidates`);
        coord.candidates = ranking.leads;
        coord.lead = ranking.leads[0]?.enterprise_id ?? null;
        coord.assisting = ranking.assisting.map((c) => c.enterprise_id);
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }
    async function submitCoordination() {
      coord.saving = true;
      try {
        await api.post(`/api/v1/orders/${coord.order.id}/coordinate`, {
          lead_enterprise_id: coord.lead,
          assisting: coord.assisting.filter((id) => id !== coord.lead),
          due_at: coord.due_at ? new Date(coord.due_at).toISOString() : null,
          note: coord.note,
        });
        ElMessage.success(t("board.decidedOk"));
        coord.open = false;
        emit("decided");
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        coord.saving = false;
      }
    }
    const candidateReason = (id) => coord.candidates.find((c) => c.enterprise_id === id)?.reason || "";

    return { t, refs, nameOf, coord, openCoordination, submitCoordination, candidateReason };
  },
  template: `
  <el-table :data="rows" size="small" :empty-text="t('board.empty')">
    <el-table-column :label="t('unit.number')" width="190">
      <template #default="{ row }"><a class="mono link" :href="'#/orders/' + row.id">{{ row.number }}</a></template>
    </el-table-column>
    <el-table-column :label="t('unit.item')" min-width="140"><template #default="{ row }">{{ $itemName(row.service_item_code) }}</template></el-table-column>
    <el-table-column :label="t('unit.description')" min-width="240"><template #default="{ row }"><div class="clamp-2">{{ row.description }}</div></template></el-table-column>
    <el-table-column :label="t('board.bounces')" prop="bounce_count" width="80" align="center" />
    <el-table-column :label="t('app.actions')" width="150">
      <template #default="{ row }"><el-button size="small" type="primary" @click="openCoordination(row)">{{ t('board.coordinate') }}</el-button></template>
    </el-table-column>
  </el-table>

  <el-dialog v-model="coord.open" width="620px" :title="t('board.coordinateTitle', { number: coord.order?.number || '' })">
    <el-form label-position="top">
      <el-form-item :label="t('board.lead')" required>
        <el-select v-model="coord.lead" filterable class="full">
          <el-option v-for="e in refs.enterprises" :key="e.id" :value="e.id" :label="nameOf(e)">
            <span class="opt-main">{{ nameOf(e) }}</span><span class="opt-side">{{ candidateReason(e.id) }}</span>
          </el-option>
        </el-select>
      </el-form-item>
      <el-form-item :label="t('board.assisting')">
        <el-select v-model="coord.assisting" multiple filterable class="full">
          <el-option v-for="e in refs.enterprises" :key="e.id" :value="e.id" :label="nameOf(e)" :disabled="e.id === coord.lead" />
        </el-select>
      </el-form-item>
      <el-form-item :label="t('board.coordinationDue')" required>
        <el-date-picker v-model="coord.due_at" type="datetime" class="full" />
      </el-form-item>
      <el-form-item :label="t('board.coordinationNote')" required>
        <el-input v-model="coord.note" type="textarea" :rows="3" maxlength="2000" />
      </el-form-item>
    </el-form>
    <template #footer>
      <el-button @click="coord.open = false">{{ t('app.cancel') }}</el-button>
      <el-button type="primary" :loading="coord.saving" @click="submitCoordination">{{ t('app.submit') }}</el-button>
    </template>
  </el-dialog>`,
};
