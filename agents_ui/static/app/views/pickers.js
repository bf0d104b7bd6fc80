// The pickers of reference data that the agent console, the rule editor and the knowledge
// base's editor share: a service item (grouped by utility) and an area (a district or one
// of its streets); `multiple` picks several (the model is then a list).

import { computed, ref } from "vue";
import { useI18n } from "vue-i18n";
import { nameOf, refs } from "../store.js";
import { DOMAINS } from "../vocab.js";

// The item picker: search by code, name (both languages) or any keyword.
export const ItemSelect = {
  props: { modelValue: [String, Array], placeholder: String, multiple: Boolean },
  emits: ["update:modelValue"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const query = ref("");
    const groups = computed(() => {
      const q = query.value.trim().toLowerCase();
      const hit = (item) =>
        !q ||
        item.code.toLowerCase().includes(q) ||
        item.name_zh.includes(q) ||
        item.name_en.toLowerCase().includes(q) ||
        (item.keywords || []).some((k) => k.includes(q));
      return [...DOMAINS, null]
        .map((domain) => ({
          domain: domain || "general",
          items: refs.items.filter((item) => (item.domain || null) === domain && hit(item)),
        }))
        .filter((g) => g.items.length);
    });
    const value = computed({
      get: () => props.modelValue,
      set: (v) => emit("update:modelValue", v),
    });
    return { t, query, groups, value, nameOf };
  },
  template: `
  <el-select v-model="value" filterable :filter-method="(q) => (query = q)" clearable :multiple="multiple"
             :placeholder="placeholder" class="full" data-test="item-select" @visible-change="(open) => !open && (query = '')">
    <el-option-group v-for="g in groups" :key="g.domain" :label="t('domain.' + g.domain)">
      <el-option v-for="item in g.items" :key="item.code" :value="item.code" :label="nameOf(item)">
        <span class="opt-main">{{ nameOf(item) }}</span>
        <span class="opt-side">{{ item.code }} · {{ t('kind.' + item.kind) }}</span>
      </el-option>
    </el-option-group>
  </el-select>`,
};

export const AreaSelect = {
  props: { modelValue: [String, Array], placeholder: String, multiple: Boolean },
  emits: ["update:modelValue"],
  setup(props, { emit }) {
    const options = computed(() =>
      refs.districts.map((d) => ({
        value: d.code,
        label: nameOf(d),
        children: d.streets.map((s) => ({ value: s.code, label: nameOf(s) })),
      })),
    );
    const value = computed({
      get: () => props.modelValue || (props.multiple ? [] : null),
      set: (v) => emit("update:modelValue", v || (props.multiple ? [] : "")),
    });
    return { options, value };
  },
  template: `
  <el-cascader v-model="value" :options="options" clearable filterable class="full" data-test="area-select"
               :props="{ checkStrictly: true, emitPath: false, multiple }" :placeholder="placeholder" />`,
};
