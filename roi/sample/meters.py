"""The sample's cloud resources: every meter that appears in its AWS and Azure FOCUS exports.

A meter is one resource × SKU billed daily. Prices are on-demand list prices (USD, us-east-1 /
East US) as the providers published them in 2025; GPU instances carry SkuPriceDetails with
their GPU count. Tags are written the way teams really leave them: mostly right, sometimes with
a different key spelling, an old model name or nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from roi.sample.portfolio import (
    AWS_PLATFORM,
    AWS_PROD,
    AWS_SANDBOX,
    AZURE_SUB,
    FIRST_MONTH,
    MODELS_BY_ID,
)

FAR_FUTURE = date(2099, 1, 1)


@dataclass(frozen=True)
class Meter:
    """One billed resource × SKU, generated as one line per day it runs."""

    key: str
    provider: str  # "AWS" | "Microsoft"
    sub_account: str
    service: str
    category: str
    subcategory: str
    resource_id: str | None
    resource_name: str | None
    resource_type: str | None
    sku_id: str
    sku_meter: str
    description: str
    unit: str  # PricingUnit / ConsumedUnit
    price: float  # list price per unit
    quantity: float  # typical units per day
    pattern: str = "flat"  # flat | weekday | training | growth | business_hours
    noise: float = 0.05
    model: str | None = None  # portfolio model the meter serves (its live window bounds it)
    tags: dict[str, str] = field(default_factory=dict)
    start: date = FIRST_MONTH
    end: date = FAR_FUTURE
    gpu_count: int | None = None
    instance_type: str | None = None
    cores: int | None = None
    memory_gb: int | None = None
    region: str = "us-east-1"
    commitment: str | None = None  # "savings_plan" | "reservation"
    service_code: str | None = None  # AWS x_ServiceCode
    operation: str | None = None  # AWS x_Operation
    resource_group: str | None = None  # Azure x_ResourceGroupName
    meter_category: str | None = None  # Azure x_SkuMeterCategory
    tag_dropout: float = 0.0  # share of days whose line arrives untagged


def _arn(service: str, account: str, resource: str) -> str:
    return f"arn:aws:{service}:us-east-1:{account}:{resource}"


def _az(group: str, provider_path: str) -> str:
    return f"/subscriptions/{AZURE_SUB}/resourcegroups/{group}/providers/{provider_path}"


def _mm(model_id: str) -> dict[str, str]:
    return {"ml-model": model_id, "cost-center": MODELS_BY_ID[model_id].business_unit.lower()}


SHARED_CLUSTER = "ml-shared-gpu"
SHARED_NODES = (
    ("i-0a5e11c0de0000001", "ip-10-42-1-17.ec2.internal"),
    ("i-0a5e11c0de0000002", "ip-10-42-2-33.ec2.internal"),
)
# Days the second shared GPU node was drained: its savings-plan commitment goes unused.
NODE2_DOWN = ((date(2025, 12, 24), date(2025, 12, 27)), (date(2026, 2, 10), date(2026, 2, 16)))
SAVINGS_PLAN_ARN = f"arn:aws:savingsplans::{AWS_PLATFORM}:savingsplan/7c1e5f9a-3b2d-4e8f-9a6c-0d1e2f3a4b5c"
SAVINGS_PLAN_RATE = 0.62  # savings-plan price as a share of on-demand
RESERVATION_ID = "/providers/Microsoft.Capacity/reservationOrders/5d0c9e1f-2a3b-4c5d-8e9f-0a1b2c3d4e5f/reservations/9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"
RESERVATION_START = date(2025, 3, 1)
RESERVATION_END = date(2026, 2, 28)
RESERVATION_UPFRONT = 1_080.0  # 1-year, 1 × Standard_D4s_v3, all upfront

AWS_METERS: tuple[Meter, ...] = (
    # fraud-detection: real-time SageMaker endpoint (2 instances) and weekly GPU retraining.
    Meter("fraud-endpoint", "AWS", AWS_PROD, "Amazon SageMaker", "AI and Machine Learning",
          "Machine Learning", _arn("sagemaker", AWS_PROD, "endpoint/fraud-detector-prod"),
          "fraud-detector-prod", "Endpoint", "7QX4KZ2CQ3M9S6YH", "Hosting:ml.c5.2xlarge",
          "$0.476 per Hosting ml.c5.2xlarge hour in US East (N. Virginia)", "Hours", 0.476, 48.0,
          model="fraud-detection", tags=_mm("fraud-detection"), instance_type="ml.c5.2xlarge",
          cores=8, memory_gb=16, service_code="AmazonSageMaker", operation="RunInstance"),
    Meter("fraud-training", "AWS", AWS_PROD, "Amazon SageMaker", "AI and Machine Learning",
          "Machine Learning", _arn("sagemaker", AWS_PROD, "training-job/fraud-retrain"),
          "fraud-retrain", "TrainingJob", "9RT2M8K4V6B3N1PQ", "Train:ml.p3.2xlarge",
          "$3.825 per Train ml.p3.2xlarge hour in US East (N. Virginia)", "Hours", 3.825, 7.0,
          pattern="training", model="fraud-detection", tags={"ml-model": "fraud-detector"},
          gpu_count=1, instance_type="ml.p3.2xlarge", cores=8, memory_gb=61,
          service_code="AmazonSageMaker", operation="CreateTrainingJob"),
    Meter("fraud-features", "AWS", AWS_PROD, "Amazon Simple Storage Service", "Storage",
          "Object Storage", "arn:aws:s3:::nw-fraud-features", "nw-fraud-features", "Bucket",
          "WP9ANXZGBYYSGJEA", "TimedStorage-ByteHrs", "$0.023 per GB-Month of storage used",
          "GB-Mo", 0.023, 410.0, pattern="growth", model="fraud-detection",
          tags=_mm("fraud-detection"), service_code="AmazonS3", operation="StandardStorage",
          tag_dropout=0.08),
    # A fraud check the fraud team runs inside the lending flow: tagged for fraud, but its name
    # also matches the credit team's resource pattern, a selector conflict the report shows.
    Meter("fraud-credit-check", "AWS", AWS_PROD, "Amazon SageMaker", "AI and Machine Learning",
          "Machine Learning", _arn("sagemaker", AWS_PROD, "endpoint/credit-fraud-check"),
          "credit-fraud-check", "Endpoint", "1NC6V8B3X5Z7M9QE", "Hosting:ml.t2.medium",
          "$0.056 per Hosting ml.t2.medium hour in US East (N. Virginia)", "Hours", 0.056, 24.0,
          model="fraud-detection", tags=_mm("fraud-detection"), start=date(2025, 4, 1),
          instance_type="ml.t2.medium", cores=2, memory_gb=4, service_code="AmazonSageMaker",
          operation="RunInstance", noise=0.0),
    # credit-scoring: small endpoint plus weekly batch scoring.
    Meter("credit-endpoint", "AWS", AWS_PROD, "Amazon SageMaker", "AI and Machine Learning",
          "Machine Learning", _arn("sagemaker", AWS_PROD, "endpoint/credit-scorecard-prod"),
          "credit-scorecard-prod", "Endpoint", "5HZ8W3Q1L7C2R9XD", "Hosting:ml.m5.xlarge",
          "$0.23 per Hosting ml.m5.xlarge hour in US East (N. Virginia)", "Hours", 0.23, 24.0,
          model="credit-scoring", tags={}, instance_type="ml.m5.xlarge", cores=4, memory_gb=16,
          service_code="AmazonSageMaker", operation="RunInstance"),
    Meter("credit-batch", "AWS", AWS_PROD, "Amazon SageMaker", "AI and Machine Learning",
          "Machine Learning", _arn("sagemaker", AWS_PROD, "transform-job/credit-batch"),
          "credit-batch", "TransformJob", "2JK7D4F9G1H3L5MN", "Transform:ml.m5.4xlarge",
          "$0.922 per Batch Transform ml.m5.4xlarge hour", "Hours", 0.922, 3.0,
          pattern="training", model="credit-scoring", tags=_mm("credit-scoring"),
          instance_type="ml.m5.4xlarge", cores=16, memory_gb=64,
          service_code="AmazonSageMaker", operation="CreateTransformJob"),
    # demand-forecast: one GPU instance that trains every night.
    Meter("demand-gpu", "AWS", AWS_PROD, "Amazon Elastic Compute Cloud", "Compute",
          "Virtual Machines", _arn("ec2", AWS_PROD, "instance/i-0demand0001"), "demand-trainer",
          "Instance", "8DGPQ6XJ2F4TNE7Z", "BoxUsage:g5.xlarge",
          "$1.006 per On Demand Linux g5.xlarge Instance Hour", "Hours", 1.006, 8.0,
          model="demand-forecast", tags={"ML-Model": "demand-forecast"}, gpu_count=1,
          instance_type="g5.xlarge", cores=4, memory_gb=16, service_code="AmazonEC2",
          operation="RunInstances"),
    # recommendations: two GPU inference instances (one left untagged) and a feature table.
    Meter("recsys-gpu-1", "AWS", AWS_PROD, "Amazon Elastic Compute Cloud", "Compute",
          "Virtual Machines", _arn("ec2", AWS_PROD, "instance/i-0recsys0001"), "recsys-infer-1",
          "Instance", "3MVK8TQ2RX5PJ6YA", "BoxUsage:g6.xlarge",
          "$0.8048 per On Demand Linux g6.xlarge Instance Hour", "Hours", 0.8048, 24.0,
          model="recommendations", tags={"ml-model": "recsys"}, gpu_count=1,
          instance_type="g6.xlarge", cores=4, memory_gb=16, service_code="AmazonEC2",
          operation="RunInstances"),
    Meter("recsys-gpu-2", "AWS", AWS_PROD, "Amazon Elastic Compute Cloud", "Compute",
          "Virtual Machines", _arn("ec2", AWS_PROD, "instance/i-0recsys0002"), "recsys-infer-2",
          "Instance", "3MVK8TQ2RX5PJ6YA", "BoxUsage:g6.xlarge",
          "$0.8048 per On Demand Linux g6.xlarge Instance Hour", "Hours", 0.8048, 24.0,
          model="recommendations", tags={}, gpu_count=1, instance_type="g6.xlarge", cores=4,
          memory_gb=16, service_code="AmazonEC2", operation="RunInstances"),
    Meter("recsys-features", "AWS", AWS_PROD, "Amazon DynamoDB", "Databases", "NoSQL Databases",
          _arn("dynamodb", AWS_PROD, "table/recsys-features"), "recsys-features", "Table",
          "F4NNBZ7E3CXTGUVS", "ReadRequestUnits", "$0.25 per million read request units",
          "ReadRequestUnits", 0.00000025, 180_000_000.0, pattern="growth",
          model="recommendations", tags=_mm("recommendations"),
          service_code="AmazonDynamoDB", operation="PayPerRequestThroughput"),
    # document-extraction: Textract pages, Bedrock tokens (through LiteLLM) and Lambda glue.
    Meter("docx-textract", "AWS", AWS_PROD, "Amazon Textract", "AI and Machine Learning",
          "Natural Language Processing", _arn("textract", AWS_PROD, "analyze-document"),
          "analyze-document", None, "QJ5W7HN2D8KXPT3C", "AnalyzeDocument-Forms",
          "$0.05 per page for the first 1M pages (Forms)", "Pages", 0.05, 1_700.0,
          pattern="weekday", model="document-extraction", tags={},
          service_code="AmazonTextract", operation="AnalyzeDocument"),
    Meter("docx-lambda", "AWS", AWS_PROD, "AWS Lambda", "Compute", "Serverless Compute",
          _arn("lambda", AWS_PROD, "function:docx-pipeline"), "docx-pipeline", "Function",
          "TG3M4CFRBFXVQZ6N", "Lambda-GB-Second", "$0.0000166667 per GB-second",
          "GB-Seconds", 0.0000166667, 180_000.0, pattern="weekday",
          model="document-extraction", tags=_mm("document-extraction"),
          service_code="AWSLambda", operation="Invoke"),
    # search-ranking: OpenSearch domain (3 data nodes).
    Meter("search-domain", "AWS", AWS_PROD, "Amazon OpenSearch Service", "Analytics", "Search",
          _arn("es", AWS_PROD, "domain/search-helpcentre"), "search-helpcentre", "Domain",
          "H8TQ2ZJ6P4W1N9RD", "ESInstance:r6g.large",
          "$0.167 per r6g.large.search instance hour", "Hours", 0.167, 72.0,
          model="search-ranking", tags=_mm("search-ranking"), instance_type="r6g.large.search",
          cores=2, memory_gb=16, service_code="AmazonES", operation="ESDomain"),
    # aml-screening: endpoint until retirement; its archive bucket keeps costing (a zombie).
    Meter("aml-endpoint", "AWS", AWS_PROD, "Amazon SageMaker", "AI and Machine Learning",
          "Machine Learning", _arn("sagemaker", AWS_PROD, "endpoint/aml-screening-v1"),
          "aml-screening-v1", "Endpoint", "6YB2C9X4N7M1K3QT", "Hosting:ml.m5.2xlarge",
          "$0.461 per Hosting ml.m5.2xlarge hour in US East (N. Virginia)", "Hours", 0.461, 48.0,
          model="aml-screening", tags=_mm("aml-screening"), instance_type="ml.m5.2xlarge",
          cores=8, memory_gb=32, service_code="AmazonSageMaker", operation="RunInstance"),
    Meter("aml-archive", "AWS", AWS_PROD, "Amazon Simple Storage Service", "Storage",
          "Object Storage", "arn:aws:s3:::nw-aml-archive", "nw-aml-archive", "Bucket",
          "WP9ANXZGBYYSGJEA", "TimedStorage-ByteHrs", "$0.023 per GB-Month of storage used",
          "GB-Mo", 0.023, 260.0, tags=_mm("aml-screening"), service_code="AmazonS3",
          operation="StandardStorage"),
    # The shared EKS GPU cluster: two 4×L40S nodes under a savings plan, serving five models.
    Meter("eks-node-1", "AWS", AWS_PLATFORM, "Amazon Elastic Compute Cloud", "Compute",
          "Virtual Machines", _arn("ec2", AWS_PLATFORM, f"instance/{SHARED_NODES[0][0]}"),
          SHARED_NODES[0][1], "Instance", "9QZJ3VRX8D2WK5TM", "BoxUsage:g6e.12xlarge",
          "Compute Savings Plans rate for g6e.12xlarge Linux", "Hours", 10.493, 24.0,
          tags={"eks:cluster-name": SHARED_CLUSTER, "team": "ml-platform"}, gpu_count=4,
          instance_type="g6e.12xlarge", cores=48, memory_gb=384, commitment="savings_plan",
          service_code="AmazonEC2", operation="RunInstances", noise=0.0),
    Meter("eks-node-2", "AWS", AWS_PLATFORM, "Amazon Elastic Compute Cloud", "Compute",
          "Virtual Machines", _arn("ec2", AWS_PLATFORM, f"instance/{SHARED_NODES[1][0]}"),
          SHARED_NODES[1][1], "Instance", "9QZJ3VRX8D2WK5TM", "BoxUsage:g6e.12xlarge",
          "Compute Savings Plans rate for g6e.12xlarge Linux", "Hours", 10.493, 24.0,
          tags={"eks:cluster-name": SHARED_CLUSTER, "team": "ml-platform"}, gpu_count=4,
          instance_type="g6e.12xlarge", cores=48, memory_gb=384, commitment="savings_plan",
          service_code="AmazonEC2", operation="RunInstances", noise=0.0),
    Meter("eks-control-plane", "AWS", AWS_PLATFORM, "Amazon Elastic Kubernetes Service",
          "Compute", "Containers", _arn("eks", AWS_PLATFORM, f"cluster/{SHARED_CLUSTER}"),
          SHARED_CLUSTER, "Cluster", "K2D4F6H8J1L3N5P7", "AmazonEKS-Hours:perCluster",
          "$0.10 per hour per Amazon EKS cluster", "Hours", 0.10, 24.0,
          tags={"team": "ml-platform"}, noise=0.0, service_code="AmazonEKS",
          operation="CreateOperation"),
    Meter("eks-volumes", "AWS", AWS_PLATFORM, "Amazon Elastic Compute Cloud", "Storage",
          "Block Storage", _arn("ec2", AWS_PLATFORM, "volume/vol-0a5e11c0de00000aa"),
          "ml-shared-gpu-volumes", "Volume", "HY3BZPP2B6K8MSJF", "EBS:VolumeUsage.gp3",
          "$0.08 per GB-month of General Purpose (gp3) provisioned storage", "GB-Mo", 0.08,
          65.0, tags={"eks:cluster-name": SHARED_CLUSTER}, service_code="AmazonEC2",
          operation="CreateVolume-Gp3"),
    # ML platform services every model uses.
    Meter("mlflow", "AWS", AWS_PLATFORM, "Amazon Elastic Compute Cloud", "Compute",
          "Virtual Machines", _arn("ec2", AWS_PLATFORM, "instance/i-0mlflow000001"),
          "mlflow-server", "Instance", "7X4TN2QDPJ6CVZ8H", "BoxUsage:m6i.xlarge",
          "$0.192 per On Demand Linux m6i.xlarge Instance Hour", "Hours", 0.192, 24.0,
          tags={"team": "ml-platform"}, instance_type="m6i.xlarge", cores=4, memory_gb=16,
          service_code="AmazonEC2", operation="RunInstances", noise=0.0),
    Meter("feature-store-db", "AWS", AWS_PLATFORM, "Amazon Relational Database Service",
          "Databases", "Relational Databases", _arn("rds", AWS_PLATFORM, "db:feature-store"),
          "feature-store", "DBInstance", "Y4WBV6CRP2M7QX3T", "InstanceUsage:db.r6g.large",
          "$0.26 per RDS db.r6g.large Multi-AZ hour (PostgreSQL)", "Hours", 0.52, 24.0,
          tags={"team": "ml-platform"}, instance_type="db.r6g.large", cores=2, memory_gb=16,
          service_code="AmazonRDS", operation="CreateDBInstance", noise=0.0),
    Meter("data-lake", "AWS", AWS_PLATFORM, "Amazon Simple Storage Service", "Storage",
          "Object Storage", "arn:aws:s3:::nw-ml-data-lake", "nw-ml-data-lake", "Bucket",
          "WP9ANXZGBYYSGJEA", "TimedStorage-ByteHrs", "$0.023 per GB-Month of storage used",
          "GB-Mo", 0.023, 2_900.0, pattern="growth", tags={"team": "ml-platform"},
          service_code="AmazonS3", operation="StandardStorage"),
    Meter("cloudwatch", "AWS", AWS_PLATFORM, "AmazonCloudWatch", "Management and Governance",
          "Observability", None, None, None, "NW8QXZ4R2HD6PM3V", "DataProcessing-Bytes",
          "$0.50 per GB custom log data ingested", "GB", 0.50, 38.0, tags={},
          service_code="AmazonCloudWatch", operation="PutLogEvents"),
    Meter("nat-gateway", "AWS", AWS_PLATFORM, "Amazon Virtual Private Cloud", "Networking",
          "Network Infrastructure", _arn("ec2", AWS_PLATFORM, "natgateway/nat-0ml00000001"),
          "ml-nat", "NatGateway", "M8HR6T4X2Q9C1V7B", "NatGateway-Hours",
          "$0.045 per NAT Gateway Hour", "Hours", 0.045, 48.0, tags={}, noise=0.0,
          service_code="AmazonVPC", operation="NatGateway"),
    Meter("data-transfer", "AWS", AWS_PROD, "AWS Data Transfer", "Networking",
          "Network Infrastructure", None, None, None, "AQCZ3KW9TNPJ6X7R",
          "DataTransfer-Out-Bytes", "$0.09 per GB - first 10 TB / month data transfer out",
          "GB", 0.09, 420.0, tags={}, service_code="AWSDataTransfer",
          operation="DataTransferOut"),
    # Sandbox notebooks of the data-science team: GPU, rarely tagged.
    Meter("sandbox-notebooks", "AWS", AWS_SANDBOX, "Amazon SageMaker", "AI and Machine Learning",
          "Machine Learning", _arn("sagemaker", AWS_SANDBOX, "app/studio-gpu"), "studio-gpu",
          "App", "4LP9T2KZ7QX3N8WD", "Studio:ml.g4dn.xlarge",
          "$0.7364 per Studio ml.g4dn.xlarge hour", "Hours", 0.7364, 30.0,
          pattern="business_hours", tags={"owner": "data-science"}, gpu_count=1,
          instance_type="ml.g4dn.xlarge", cores=4, memory_gb=16, noise=0.25,
          service_code="AmazonSageMaker", operation="RunInstance"),
)

AZURE_METERS: tuple[Meter, ...] = (
    # churn-prediction: Azure ML training compute (covered by a reservation) and storage.
    Meter("churn-compute", "Microsoft", AZURE_SUB, "Azure Machine Learning",
          "AI and Machine Learning", "Machine Learning",
          _az("rg-churn", "microsoft.machinelearningservices/workspaces/mlw-churn/computes/cpu-cluster"),
          "cpu-cluster", "microsoft.machinelearningservices/workspaces/computes",
          "DZH318Z0BQ4L", "D4s v3", "Dsv3 Series D4s v3 compute hours", "1 Hour", 0.192, 24.0,
          model="churn-prediction", tags={"ML-Model": "churn-prediction", "CostCenter": "retail"},
          instance_type="Standard_D4s_v3", cores=4, memory_gb=16, region="eastus",
          commitment="reservation", resource_group="rg-churn", meter_category="Virtual Machines",
          noise=0.0),
    Meter("churn-storage", "Microsoft", AZURE_SUB, "Storage Accounts", "Storage",
          "Storage Platforms", _az("rg-churn", "microsoft.storage/storageaccounts/stchurnfeatures"),
          "stchurnfeatures", "microsoft.storage/storageaccounts", "DZH318Z0BP9C", "Hot LRS Data Stored",
          "Blob Storage Hot LRS data stored", "1 GB/Month", 0.0184, 120.0, pattern="growth",
          model="churn-prediction", tags={"ml_model": "churn-prediction"}, region="eastus",
          resource_group="rg-churn", meter_category="Storage"),
    # predictive-maintenance: managed online endpoint and the ATM telemetry hub.
    Meter("pdm-endpoint", "Microsoft", AZURE_SUB, "Azure Machine Learning",
          "AI and Machine Learning", "Machine Learning",
          _az("rg-pdm", "microsoft.machinelearningservices/workspaces/mlw-pdm/onlineendpoints/atm-failure"),
          "atm-failure", "microsoft.machinelearningservices/workspaces/onlineendpoints",
          "DZH318Z0BQ1G", "F4s v2", "Fsv2 Series F4s v2 endpoint hours", "1 Hour", 0.169, 48.0,
          model="predictive-maintenance", tags={"ML-Model": "predictive-maintenance"},
          instance_type="Standard_F4s_v2", cores=4, memory_gb=8, region="eastus",
          resource_group="rg-pdm", meter_category="Virtual Machines", noise=0.0),
    Meter("pdm-iothub", "Microsoft", AZURE_SUB, "Azure IoT Hub", "Internet of Things",
          "IoT Platforms", _az("rg-pdm", "microsoft.devices/iothubs/iot-atm-fleet"),
          "iot-atm-fleet", "microsoft.devices/iothubs", "DZH318Z0BNVX", "S1 Unit",
          "IoT Hub S1 unit per day", "1/Day", 0.8219, 4.0, model="predictive-maintenance",
          tags={"ML-Model": "predictive-maintenance"}, region="eastus", resource_group="rg-pdm",
          meter_category="IoT Hub", noise=0.0),
    # clinical-triage: an A100 VM for experiments on weekdays.
    Meter("triage-gpu", "Microsoft", AZURE_SUB, "Virtual Machines", "Compute", "Virtual Machines",
          _az("rg-triage", "microsoft.compute/virtualmachines/vm-triage-a100"), "vm-triage-a100",
          "microsoft.compute/virtualmachines", "DZH318Z0CSHN", "NC24ads A100 v4",
          "NCadsA100v4 Series NC24ads A100 v4 hours", "1 Hour", 3.673, 10.0, pattern="weekday",
          model="clinical-triage", tags={"ML-Model": "clinical-triage", "Environment": "exp"},
          gpu_count=1, instance_type="Standard_NC24ads_A100_v4", cores=24, memory_gb=220,
          region="eastus", resource_group="rg-triage", meter_category="Virtual Machines",
          noise=0.2),
    # support-assistant: AI Search and the app; claims-summarizer: its own app (pilot).
    Meter("assist-search", "Microsoft", AZURE_SUB, "Azure AI Search", "Analytics", "Search",
          _az("rg-assist", "microsoft.search/searchservices/srch-support-kb"), "srch-support-kb",
          "microsoft.search/searchservices", "DZH318Z0BXWC", "S1 Unit", "Azure AI Search S1 unit",
          "1 Hour", 0.336, 24.0, model="support-assistant",
          tags={"ML-Model": "support-assistant"}, region="eastus", resource_group="rg-assist",
          meter_category="Azure Cognitive Search", noise=0.0),
    Meter("assist-app", "Microsoft", AZURE_SUB, "Azure App Service", "Web",
          "Application Platforms", _az("rg-assist", "microsoft.web/sites/app-support-assistant"),
          "app-support-assistant", "microsoft.web/sites", "DZH318Z0BVXP", "P1 v3 App",
          "Premium v3 P1 v3 app hours", "1 Hour", 0.232, 48.0, model="support-assistant",
          tags={"ml-model": "Support-Assistant"}, region="eastus", resource_group="rg-assist",
          meter_category="Azure App Service", noise=0.0),
    Meter("claims-app", "Microsoft", AZURE_SUB, "Azure App Service", "Web",
          "Application Platforms", _az("rg-claims-llm", "microsoft.web/sites/app-claims-summary"),
          "app-claims-summary", "microsoft.web/sites", "DZH318Z0BVXP", "P1 v3 App",
          "Premium v3 P1 v3 app hours", "1 Hour", 0.232, 24.0, model="claims-summarizer",
          tags={}, region="eastus", resource_group="rg-claims-llm",
          meter_category="Azure App Service", noise=0.0),
    Meter("log-analytics", "Microsoft", AZURE_SUB, "Azure Monitor", "Management and Governance",
          "Observability", _az("rg-ml-platform", "microsoft.operationalinsights/workspaces/log-ml"),
          "log-ml", "microsoft.operationalinsights/workspaces", "DZH318Z0BQ5M",
          "Pay-as-you-go Data Ingestion", "Log Analytics data ingestion", "1 GB", 2.30, 9.0,
          tags={"team": "ml-platform"}, region="eastus", resource_group="rg-ml-platform",
          meter_category="Log Analytics"),
)

# The shared Azure OpenAI account (one per tenant) that both LLM products call through LiteLLM.
AZURE_OPENAI_ID = _az("rg-genai-shared", "microsoft.cognitiveservices/accounts/oai-northwind-shared")
# LLM deployments: (deployment, provider that bills it, price per 1K input, 1K cached, 1K output)
LLM_PRICES: dict[str, tuple[str, float, float, float, float]] = {
    "gpt-4o": ("Microsoft", 0.0025, 0.00125, 0.0, 0.01),
    "gpt-4o-mini": ("Microsoft", 0.00015, 0.000075, 0.0, 0.0006),
    "anthropic.claude-3-5-sonnet-20241022-v2:0": ("AWS", 0.003, 0.0003, 0.00375, 0.015),
    "anthropic.claude-3-haiku-20240307-v1:0": ("AWS", 0.00025, 0.00003, 0.0003, 0.00125),
}
BEDROCK_PROFILE = _arn("bedrock", AWS_PROD, "application-inference-profile/docx-claude")
