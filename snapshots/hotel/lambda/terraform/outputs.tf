output "api_url" {
  description = "Base URL of the HTTP API (client.py --url)"
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "table_name" {
  description = "The DynamoDB table holding entity state"
  value       = aws_dynamodb_table.state.name
}

output "function_name" {
  description = "The Lambda function"
  value       = aws_lambda_function.app.function_name
}
