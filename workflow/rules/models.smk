# Model preparation: hub id, local HF dir or GGUF file -> resources/models/{model}/model.json.
# A localrule: hub downloads need the login node's internet; GGUF conversion takes ~20 s on CPU.


localrules:
    prepare_model,


rule prepare_model:
    output:
        "resources/models/{model}/model.json",
    params:
        spec=lambda w: config["models"][w.model],
    log:
        "logs/models/{model}.log",
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/prepare_model.py"


rule models:
    input:
        [PLAN.model_record(m) for m in PLAN.models()],
