/**
 * Failure alarms to an SNS topic, when pipeline.yaml names a recipient (`aws.alarm_email`) or an
 * existing topic (`aws.alarm_topic_arn`). Without either, nothing is created: alarms nobody
 * receives are noise in the plan.
 *
 * - the extractor's Lambda Errors metric (a failed run throws);
 * - messages in the extractor's failure queue (an invocation that failed or never happened);
 * - Glue transform runs that end FAILED, TIMEOUT or ERROR (EventBridge rule on Glue Job State Change);
 * - failed executions of the transform starter (with a report: the job run and the report step too).
 */
import { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule/index.js';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target/index.js';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic/index.js';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy/index.js';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription/index.js';
import { shortName } from '../names.ts';
import type { ExtractorFunction } from './extractor-function.ts';
import type { GlueTransform } from './glue-transform.ts';

export interface AlarmsProps {
  pipelineName: string;
  email?: string;
  topicArn?: string;
  extractor: ExtractorFunction;
  transform: GlueTransform;
  /** Encrypts the created topic (its key policy must let CloudWatch and EventBridge use it). */
  kmsKeyArn?: string;
  accountId: string;
}

export class Alarms extends Construct {
  readonly topicArn: string;
  readonly topic?: SnsTopic;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const name = props.pipelineName;
    const glueFailed = new CloudwatchEventRule(this, 'transform-failed', {
      name: shortName(`${name}-transform-failed`),
      description: `The Glue transform of pipeline ${name} failed`,
      eventPattern: JSON.stringify({
        source: ['aws.glue'],
        'detail-type': ['Glue Job State Change'],
        detail: { jobName: [props.transform.job.name], state: ['FAILED', 'TIMEOUT', 'ERROR'] },
      }),
    });
    if (props.topicArn) {
      // An existing topic: its owner must let events.amazonaws.com and CloudWatch publish to it.
      this.topicArn = props.topicArn;
    } else {
      this.topic = new SnsTopic(this, 'topic', { name: shortName(`${name}-alarms`), displayName: `${name} alarms`, kmsMasterKeyId: props.kmsKeyArn });
      this.topicArn = this.topic.arn;
      new SnsTopicPolicy(this, 'topic-policy', {
        arn: this.topic.arn,
        policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'EventBridgePublishesTransformFailures',
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: this.topic.arn,
              Condition: { ArnEquals: { 'aws:SourceArn': glueFailed.arn } },
            },
            {
              Sid: 'CloudWatchPublishesAlarms',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: this.topic.arn,
              Condition: { StringEquals: { 'aws:SourceAccount': props.accountId } },
            },
          ],
        }),
      });
      if (props.email) new SnsTopicSubscription(this, 'email', { topicArn: this.topic.arn, protocol: 'email', endpoint: props.email });
    }
    new CloudwatchEventTarget(this, 'transform-failed-target', { rule: glueFailed.name, arn: this.topicArn });

    const alarm = (id: string, description: string, namespace: string, metricName: string, dimensions: Record<string, string>, statistic = 'Sum') =>
      new CloudwatchMetricAlarm(this, id, {
        alarmName: shortName(`${name}-${id}`),
        alarmDescription: description,
        namespace,
        metricName,
        dimensions,
        statistic,
        period: 300,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        treatMissingData: 'notBreaching',
        alarmActions: [this.topicArn],
      });
    alarm('extractor-errors', `The extractor of pipeline ${name} failed`, 'AWS/Lambda', 'Errors', { FunctionName: props.extractor.fn.functionName });
    alarm('extractor-failures-queued', `Failed or undelivered extractor invocations of pipeline ${name} are waiting in the failure queue`, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: props.extractor.failures.name }, 'Maximum');
    alarm('transform-starter-failed', `The transform of pipeline ${name} could not be started${props.transform.reports ? ', failed, or its report failed (a panel query, the report function)' : ''}`, 'AWS/States', 'ExecutionsFailed', { StateMachineArn: props.transform.starter.arn });
  }
}
