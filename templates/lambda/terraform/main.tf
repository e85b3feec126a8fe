# The same resources as ../template.yaml: the function (from a zip of ../src), its role
# with a policy scoped to the state table, the table, and the HTTP API in front.

data "archive_file" "function" {
  type        = "zip"
  source_dir  = "${path.module}/../src"
  output_path = "${path.module}/build/function.zip"
  excludes    = ["__pycache__"]
}

resource "aws_dynamodb_table" "state" {
  name         = "${var.name}-state"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
}

resource "aws_iam_role" "function" {
  name = "${var.name}-function"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.function.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

# Least privilege: the item operations the handler uses (transactions need the same
# actions), on this table only.
resource "aws_iam_role_policy" "state" {
  name = "state-table"
  role = aws_iam_role.function.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect = "Allow"
      Action = [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
      ]
      Resource = aws_dynamodb_table.state.arn
    }]
  })
}

resource "aws_lambda_function" "app" {
  function_name    = var.name
  filename         = data.archive_file.function.output_path
  source_code_hash = data.archive_file.function.output_base64sha256
  handler          = "handler.lambda_handler"
  runtime          = "python3.11"
  role             = aws_iam_role.function.arn
  timeout          = var.timeout
  memory_size      = var.memory_size

  environment {
    variables = {
      STATE_TABLE              = aws_dynamodb_table.state.name
      SFGEN_LEASE_SECONDS      = tostring(var.lease_seconds)
      SFGEN_LEASE_WAIT_SECONDS = tostring(var.lease_wait_seconds)
      SFGEN_RESULT_TTL_SECONDS = tostring(var.result_ttl_seconds)
    }
  }

  depends_on = [aws_iam_role_policy_attachment.logs, aws_iam_role_policy.state]
}

resource "aws_apigatewayv2_api" "http" {
  name          = var.name
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "function" {
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.app.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "create" {
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "POST /{entity}"
  target    = "integrations/${aws_apigatewayv2_integration.function.id}"
}

resource "aws_apigatewayv2_route" "call" {
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "POST /{entity}/{key}/{method}"
  target    = "integrations/${aws_apigatewayv2_integration.function.id}"
}

resource "aws_apigatewayv2_route" "state" {
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "GET /{entity}/{key}"
  target    = "integrations/${aws_apigatewayv2_integration.function.id}"
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowHttpApiInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.app.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/*/*"
}
