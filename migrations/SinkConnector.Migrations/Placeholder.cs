namespace SinkConnector.Migrations;
