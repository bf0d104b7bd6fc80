// Orders in coordination (协调督办: no unit takes them): the supervisor names the lead
// and assisting units from the ranked candidates, a deadline and instructions. With
// "hard", the open hard cases (办不成事): where the citizen already tried, their status
// and their own limit, which the deadline starts from; only those waiting in
// coordination can be coordinated.

import { computed, reactive } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { errorText, nameOf, refs } from "../../store.js";

export default {
  props: { rows: Array, hard: Boolean }, // GET /api/v1/orders?status=escalated (&hard_case)
  emits: ["decided"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const coord = reactive({
      open: false, order: null, candidates: [], returned: [], lead: null, assisting: [], due_at: null, note: "",
      saving: false,
    });

    async function openCoordination(order) {
      Object.assign(coord, {
        open: true, order, candidates: [], returned: [], lead: null, assisting: [], note: "", saving: false,
        due_at: order.hard_case_due_at ? new Date(order.hard_case_due_at) : null,
      });
      try {
        // Units whose return stands come last in the ranking and are never proposed.
        const ranking = await api.get(`/api/v1/orders/${order.id}/candidates`);
        coord.candidates = ranking.leads;
        coord.returned = ranking.returned;
        coord.lead = ranking.leads.find((c) => !c.returned)?.enterprise_id ?? null;
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
    const returnOf = (id) => coord.returned.find((r) => r.enterprise_id === id);
    const returnText = (r) => r.reason_text
      ? t("board.returnedMarkText", { reason: t(`returnReason.${r.reason_code}`), text: r.reason_text })
      : t("board.returnedMark", { reason: t(`returnReason.${r.reason_code}`) });
    const returnedName = (r) => {
      const unit = refs.enterprises.find((e) => e.id === r.enterprise_id);
      return unit ? nameOf(unit) : r.name;
    };
    const candidateReason = (id) => {
      const returned = returnOf(id);
      if (returned) return returnText(returned);
      return coord.candidates.find((c) => c.enterprise_id === id)?.reason || "";
    };
    // The lead's choices: fresh candidates in their rank, the other units, then the units
    // that returned the order.
    const leadOptions = computed(() => {
      const rank = (e) => {
        if (returnOf(e.id)) return coord.candidates.length + 1;
        const at = coord.candidates.findIndex((c) => c.enterprise_id === e.id);
        return at === -1 ? coord.candidates.length : at;
      };
      return [...refs.enterprises].sort((a, b) => rank(a) - rank(b));
    });

    return {
      t, refs, nameOf, coord, openCoordination, submitCoordination, candidateReason, returnOf, returnText, returnedName,
      leadOptions,
    };
  },
  template: `
  <el-table :data="rows" size="small" :empty-text="t('board.empty')" data-test="coordination">
    <el-table-column :label="t('unit.number')" width="190">
      <template #default="{ row }"><a class="mono link" :href="'#/orders/' + row.id">{{ row.number }}</a></template>
    </el-table-column>
    <el-table-column :label="t('unit.item')" min-width="140"><template #default="{ row }">{{ $itemName(row.service_item_code) }}</template></el-table-column>
    <el-table-column :label="t('unit.description')" min-width="240"><template #default="{ row }"><div class="clamp-2">{{ row.description }}</div></template></el-table-column>
    <template v-if="hard">
      <el-table-column :label="t('hardCase.tried')" min-width="220"><template #default="{ row }"><div class="clamp-2">{{ row.tried_elsewhere }}</div></template></el-table-column>
      <el-table-column :label="t('unit.state')" width="110"><template #default="{ row }"><StatusTag :status="row.status" /></template></el-table-column>
      <el-table-column :label="t('hardCase.due')" width="160"><template #default="{ row }"><Countdown :due="row.hard_case_due_at || row.resolution_due_at" :start="row.created_at" /></template></el-table-column>
    </template>
    <el-table-column v-else :label="t('board.bounces')" prop="bounce_count" width="80" align="center" />
    <el-table-column :label="t('app.actions')" width="150">
      <template #default="{ row }"><el-button v-if="row.status === 'escalated'" size="small" type="primary" data-test="coordinate" @click="openCoordination(row)">{{ t('board.coordinate') }}</el-button></template>
    </el-table-column>
  </el-table>

  <el-dialog v-model="coord.open" width="620px" :title="t('board.coordinateTitle', { number: coord.order?.number || '' })">
    <el-form label-position="top">
      <el-alert v-if="coord.order?.hard_case" type="error" :closable="false" class="returned-units" data-test="hard-case-tried" :title="t('hardCase.flag')">
        <div>{{ t('hardCase.triedLine', { text: coord.order.tried_elsewhere }) }}</div>
      </el-alert>
      <el-alert v-if="coord.returned.length" type="warning" :closable="false" class="returned-units" data-test="returned-units" :title="t('board.returnedUnits')">
        <div v-for="r in coord.returned" :key="r.enterprise_id" class="returned-unit">
          <b>{{ returnedName(r) }}</b>
          <span> · {{ returnText(r) }}</span>
        </div>
      </el-alert>
      <el-form-item :label="t('board.lead')" required>
        <el-select v-model="coord.lead" filterable class="full" data-test="coordination-lead">
          <el-option v-for="e in leadOptions" :key="e.id" :value="e.id" :label="nameOf(e)">
            <span class="opt-main">{{ nameOf(e) }}</span>
            <span class="opt-side" :class="{ 'opt-returned': returnOf(e.id) }">{{ candidateReason(e.id) }}</span>
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
