namespace SinkConnector.Testing;
