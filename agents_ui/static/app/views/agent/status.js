// The agent's own status and the button that takes the next waiting call. The console
// holds the status: taking or ending a call and the shortcuts change it too.

import { useI18n } from "vue-i18n";

export default {
  props: { status: String, taking: Boolean },
  emits: ["status", "take"],
  setup() {
    const { t } = useI18n();
    return { t };
  },
  template: `
  <el-card shadow="never" class="panel">
    <template #header><div class="panel-head"><span>{{ t('agent.status') }}</span></div></template>
    <el-radio-group :model-value="status" class="status-group" data-test="agent-status"
                    @update:model-value="(value) => $emit('status', value)">
      <el-radio-button value="available">{{ t('agentStatus.available') }}</el-radio-button>
      <el-radio-button value="busy">{{ t('agentStatus.busy') }}</el-radio-button>
      <el-radio-button value="after_call">{{ t('agentStatus.after_call') }}</el-radio-button>
      <el-radio-button value="offline">{{ t('agentStatus.offline') }}</el-radio-button>
    </el-radio-group>
    <el-button type="primary" size="large" class="take-call" :loading="taking" data-test="take-call"
               @click="$emit('take')">{{ t('agent.takeNext') }} <kbd>F2</kbd></el-button>
  </el-card>`,
};
