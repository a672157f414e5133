import Hummingbird
import HummingbirdTesting
import MQTTIngest
import Testing

@testable import GatewayHTTP

/// `/metrics` exports the MQTT client's statistics beside the pipeline's counters.
@Suite struct MetricsRoutesTests {
    @Test func exportsTheMQTTClientStatisticsAsCounters() async throws {
        let statistics = MQTTClientStatistics(
            messagesReceived: 120,
            messagesPublished: 7,
            publishAcks: 6,
            connects: 2,
            disconnects: 1
        )
        let router = GatewayHTTPServer.makeRouter(
            readiness: { [] },
            metrics: { [("frames_stored", 42)] + statistics.metricSamples }
        )
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(
                    String(buffer: response.body)
                        == """
                        # TYPE meter_gateway_frames_stored counter
                        meter_gateway_frames_stored 42
                        # TYPE meter_gateway_mqtt_messages_received_total counter
                        meter_gateway_mqtt_messages_received_total 120
                        # TYPE meter_gateway_mqtt_messages_published_total counter
                        meter_gateway_mqtt_messages_published_total 7
                        # TYPE meter_gateway_mqtt_publish_acks_total counter
                        meter_gateway_mqtt_publish_acks_total 6
                        # TYPE meter_gateway_mqtt_connects_total counter
                        meter_gateway_mqtt_connects_total 2
                        # TYPE meter_gateway_mqtt_disconnects_total counter
                        meter_gateway_mqtt_disconnects_total 1

                        """
                )
            }
        }
    }
}
