// The board's callback work (回访): campaigns — the standing post-completion one, spot
// checks (抽查) and proactive surveys (营商环境专席) — with their surveys counted, created,
// paused and resumed; and units' appeals of bad ratings (申诉) to approve or reject.

import { onMounted, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { errorText, nameOf, refs, unitName } from "../store.js";
import { useLiveReload } from "./common.js";

// Callback events change the counts; other events leave campaigns and appeals alone.
const callbackEvent = (event) => /^(callback|order\.(close|reopen)|rating)/.test(event.type);

// Last week's Monday: the spot check's default, the latest whole week that is over.
function lastMonday() {
  const day = new Date();
  day.setDate(day.getDate() - ((day.getDay() + 6) % 7) - 7);
  return `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, "0")}-${String(day.getDate()).padStart(2, "0")}`;
}

function emptyCampaign() {
  return {
    kind: "spot_check", name: "", channel: "voice", week_start: lastMonday(), share: null,
    hotline: "", phones: "",
  };
}

// "13912345678 张先生" or "13912345678,张先生", one a line; blank lines are skipped.
export function parsePhones(text) {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [phone, ...name] = line.split(/[\s,，]+/);
      return { phone, contact_name: name.join(" ") };
    });
}

export const CampaignsPanel = {
  setup() {
    const { t } = useI18n();
    const items = ref([]);
    const busy = ref(null);
    const form = reactive({ open: false, saving: false, values: emptyCampaign() });

    async function load() {
      items.value = (await api.get("/api/v1/callback-campaigns", { limit: 50 })).items;
    }
    useLiveReload(load, { accept: callbackEvent, wait: 800 });
    onMounted(load);

    async function setState(row, action) {
      busy.value = row.id;
      try {
        const changed = await api.post(`/api/v1/callback-campaigns/${row.id}/${action}`);
        items.value = items.value.map((c) => (c.id === changed.id ? changed : c));
        ElMessage.success(t(action === "pause" ? "campaigns.pausedOk" : "campaigns.resumedOk", { name: row.name }));
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        busy.value = null;
      }
    }

    function openCreate() {
      Object.assign(form, { open: true, saving: false, values: emptyCampaign() });
    }
    async function create() {
      const v = form.values;
      const body = { kind: v.kind, name: v.name.trim(), channel: v.channel };
      if (v.kind === "spot_check") {
        body.week_start = v.week_start;
        if (v.share) body.sample_share = v.share / 100;
      } else {
        body.phones = parsePhones(v.phones);
        if (v.hotline) body.hotline_code = v.hotline;
      }
      if (!body.name) {
        ElMessage.warning(t("campaigns.nameNeeded"));
        return;
      }
      form.saving = true;
      try {
        const made = await api.post("/api/v1/callback-campaigns", body);
        ElMessage.success(t("campaigns.createdOk", { name: made.name, n: made.counts.surveys }, made.counts.surveys));
        form.open = false;
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        form.saving = false;
      }
    }
    const notMonday = (date) => date.getDay() !== 1;

    return { t, items, busy, form, setState, openCreate, create, notMonday, refs, nameOf };
  },
  template: `
  <div class="tab-toolbar">
    <span class="muted small">{{ t('campaigns.hint') }}</span>
    <el-button type="primary" size="small" data-test="campaign-new" @click="openCreate">{{ t('campaigns.create') }}</el-button>
  </div>
  <el-table :data="items" size="small" :empty-text="t('board.empty')" data-test="campaigns" row-key="id">
    <el-table-column :label="t('campaigns.name')" min-width="170">
      <template #default="{ row }"><span class="strong">{{ row.name }}</span>
        <div class="muted tiny">{{ t('campaigns.kinds.' + row.kind) }}<template v-if="row.week_start"> · {{ t('campaigns.weekOf', { d: row.week_start }) }}</template></div></template>
    </el-table-column>
    <el-table-column :label="t('campaigns.channel')" width="84"><template #default="{ row }">{{ t('campaigns.channels.' + row.channel) }}</template></el-table-column>
    <el-table-column :label="t('campaigns.state')" width="84">
      <template #default="{ row }"><el-tag disable-transitions size="small" :type="row.state === 'active' ? 'success' : 'warning'" data-test="campaign-state">{{ t('campaigns.states.' + row.state) }}</el-tag></template>
    </el-table-column>
    <el-table-column :label="t('campaigns.surveys')" width="72" align="right"><template #default="{ row }">{{ row.counts.surveys }}</template></el-table-column>
    <el-table-column :label="t('campaigns.open')" width="72" align="right"><template #default="{ row }">{{ row.counts.open }}</template></el-table-column>
    <el-table-column :label="t('campaigns.answered')" width="72" align="right"><template #default="{ row }">{{ row.counts.answered }}</template></el-table-column>
    <el-table-column :label="t('campaigns.unreachable')" width="72" align="right"><template #default="{ row }">{{ row.counts.unreachable }}</template></el-table-column>
    <el-table-column :label="t('campaigns.goodBad')" width="96" align="right">
      <template #default="{ row }"><span class="good">{{ row.counts.good }}</span> / <span class="bad">{{ row.counts.bad }}</span></template>
    </el-table-column>
    <el-table-column :label="t('board.at')" width="110"><template #default="{ row }">{{ $fmtTime(row.created_at) }}</template></el-table-column>
    <el-table-column :label="t('app.actions')" width="110">
      <template #default="{ row }">
        <el-button v-if="row.state === 'active'" size="small" :loading="busy === row.id" data-test="campaign-pause"
                   @click="setState(row, 'pause')">{{ t('campaigns.pause') }}</el-button>
        <el-button v-else size="small" type="primary" :loading="busy === row.id" data-test="campaign-resume"
                   @click="setState(row, 'resume')">{{ t('campaigns.resume') }}</el-button>
      </template>
    </el-table-column>
  </el-table>

  <el-dialog v-model="form.open" :title="t('campaigns.create')" width="560px" data-test="campaign-dialog">
    <el-form label-position="top" @submit.prevent="create">
      <el-form-item :label="t('campaigns.kind')">
        <el-radio-group v-model="form.values.kind" data-test="campaign-kind">
          <el-radio-button value="spot_check">{{ t('campaigns.kinds.spot_check') }}</el-radio-button>
          <el-radio-button value="proactive">{{ t('campaigns.kinds.proactive') }}</el-radio-button>
        </el-radio-group>
      </el-form-item>
      <el-form-item :label="t('campaigns.name')" required>
        <el-input v-model="form.values.name" maxlength="200" data-test="campaign-name" />
      </el-form-item>
      <el-form-item :label="t('campaigns.channel')">
        <el-radio-group v-model="form.values.channel">
          <el-radio-button value="voice">{{ t('campaigns.channels.voice') }}</el-radio-button>
          <el-radio-button value="sms">{{ t('campaigns.channels.sms') }}</el-radio-button>
          <el-radio-button value="manual">{{ t('campaigns.channels.manual') }}</el-radio-button>
        </el-radio-group>
      </el-form-item>
      <template v-if="form.values.kind === 'spot_check'">
        <div class="form-pair">
          <el-form-item :label="t('campaigns.weekStart')" required>
            <el-date-picker v-model="form.values.week_start" type="date" value-format="YYYY-MM-DD"
                            :disabled-date="notMonday" :clearable="false" class="full" />
          </el-form-item>
          <el-form-item :label="t('campaigns.share')">
            <el-input-number v-model="form.values.share" :min="1" :max="100" :placeholder="t('campaigns.shareDefault')" class="full" />
          </el-form-item>
        </div>
        <p class="muted small">{{ t('campaigns.spotHint') }}</p>
      </template>
      <template v-else>
        <el-form-item :label="t('campaigns.hotline')">
          <el-select v-model="form.values.hotline" clearable class="full">
            <el-option v-for="h in refs.hotlines" :key="h.code" :value="h.code" :label="h.code + ' ' + nameOf(h)" />
          </el-select>
        </el-form-item>
        <el-form-item :label="t('campaigns.phones')" required>
          <el-input v-model="form.values.phones" type="textarea" :rows="5" :placeholder="t('campaigns.phonesHint')" data-test="campaign-phones" />
        </el-form-item>
      </template>
    </el-form>
    <template #footer>
      <el-button @click="form.open = false">{{ t('app.cancel') }}</el-button>
      <el-button type="primary" :loading="form.saving" data-test="campaign-submit" @click="create">{{ t('app.submit') }}</el-button>
    </template>
  </el-dialog>`,
};

export const AppealsPanel = {
  emits: ["count"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const items = ref([]);
    const decision = reactive({ open: false, row: null, decision: "approve", note: "", saving: false });

    async function load() {
      items.value = (await api.get("/api/v1/rating-appeals", { limit: 50 })).items;
      emit("count", items.value.length);
    }
    useLiveReload(load, { accept: callbackEvent, wait: 800 });
    onMounted(load);

    function openDecision(row, choice) {
      Object.assign(decision, { open: true, row, decision: choice, note: "", saving: false });
    }
    async function decide() {
      decision.saving = true;
      try {
        await api.post(`/api/v1/rating-appeals/${decision.row.id}/decision`, {
          decision: decision.decision, note: decision.note,
        });
        ElMessage.success(t("board.decidedOk"));
        decision.open = false;
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        decision.saving = false;
      }
    }
    return { t, items, decision, openDecision, decide, unitName };
  },
  template: `
  <el-table :data="items" size="small" :empty-text="t('board.empty')" data-test="appeals">
    <el-table-column :label="t('unit.number')" width="190">
      <template #default="{ row }"><a class="mono link" :href="'#/orders/' + row.order_id">{{ row.order_number }}</a></template>
    </el-table-column>
    <el-table-column :label="t('board.unit')" min-width="140"><template #default="{ row }">{{ unitName(row.enterprise_id) }}</template></el-table-column>
    <el-table-column :label="t('appeals.rating')" width="150">
      <template #default="{ row }">
        <el-tag v-if="row.solved === false" disable-transitions size="small" type="danger" effect="plain">{{ t('order.notSolved') }}</el-tag>
        <span v-if="row.rating" class="small"> {{ t('rating.' + row.rating) }}</span></template>
    </el-table-column>
    <el-table-column :label="t('appeals.reason')" min-width="240"><template #default="{ row }"><div class="clamp-2">{{ row.reason }}</div></template></el-table-column>
    <el-table-column :label="t('board.at')" width="110"><template #default="{ row }">{{ $fmtTime(row.created_at) }}</template></el-table-column>
    <el-table-column :label="t('app.actions')" width="170">
      <template #default="{ row }">
        <div class="row-actions">
          <el-button size="small" type="primary" @click="openDecision(row, 'approve')">{{ t('appeals.approve') }}</el-button>
          <el-button size="small" @click="openDecision(row, 'reject')">{{ t('appeals.reject') }}</el-button>
        </div>
      </template>
    </el-table-column>
  </el-table>

  <el-dialog v-model="decision.open" width="520px"
             :title="(decision.decision === 'approve' ? t('appeals.approve') : t('appeals.reject')) + ' · ' + (decision.row?.order_number || '')">
    <template v-if="decision.row">
      <p class="pre">{{ decision.row.reason }}</p>
      <p class="muted small">{{ decision.decision === 'approve' ? t('appeals.approveHint') : t('appeals.rejectHint') }}</p>
      <el-input v-model="decision.note" type="textarea" :rows="3" :placeholder="t('board.reviewNote')" maxlength="2000" />
    </template>
    <template #footer>
      <el-button @click="decision.open = false">{{ t('app.cancel') }}</el-button>
      <el-button type="primary" :loading="decision.saving" @click="decide">{{ t('app.submit') }}</el-button>
    </template>
  </el-dialog>`,
};
